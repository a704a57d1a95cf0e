#!/usr/bin/env bash
# Runs `node ARGS…` on a supported Node.js (22 or 24 LTS, package.json "engines"): the machine's own
# node when it is 22 or newer, else the pinned Node 24 that set-up installs as .tools/bin/node24.
# Node 20 reached its end of life in April 2026: a suite run on it would prove Mooring on a runtime
# it does not support, so `npm test` and `npm start` say so in one line and use Node 24 instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -ge 22 ]; then exec node "$@"; fi
node24="$root/.tools/bin/node24"
if [ ! -x "$node24" ]; then
  echo "node: Node.js $(node --version) is past its end of life and .tools/bin/node24 is missing." >&2
  echo "  Run npm run setup (it installs Node 24 into .tools), or install Node.js 22 or 24." >&2
  exit 1
fi
echo "node: Node.js $(node --version) is past its end of life (Mooring supports 22 and 24); running on $("$node24" --version) from .tools/bin/node24" >&2
exec "$node24" "$@"
