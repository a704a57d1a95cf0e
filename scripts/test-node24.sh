#!/usr/bin/env bash
# CI's Node 24 layer: the unit, workflow and replay tests on the pinned Node 24 (.tools/bin/node24,
# NODE_VERSION in docker/versions.env, the Node of the worker image). When `npm test` already ran
# the whole suite on Node 24 (the machine's node is 24, or is past its end of life and
# scripts/with-node.sh chose node24), running them again proves nothing new: it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1mtest:node24:\033[0m %s\n' "$*"; }
node24=.tools/bin/node24
[ -x "$node24" ] || { say ".tools/bin/node24 is missing: run npm run setup"; exit 1; }
suite_node=$(bash scripts/with-node.sh -p 'process.versions.node' 2>/dev/null)
if [ "${suite_node%%.*}" = 24 ]; then
  say "npm test ran the whole suite on Node $suite_node already; nothing to add"
  exit 0
fi
say "unit, workflow and replay tests on Node $("$node24" --version) (the suite ran on Node $suite_node)"
npm run build --silent
exec "$node24" --test --test-concurrency=1 $(find dist/test/unit dist/test/workflow dist/test/replay -name '*.test.js' | sort)
