#!/usr/bin/env bash
# Runs scripts/setup.sh only when something it sets up is missing or stale, so that `npm start`
# and `npm test` work on a fresh clone and cost well under a second once set up.
#
# "Set up" means a stamp written after a successful setup.sh names the same key: the sha256 of
# package-lock.json, scripts/setup.sh, the build scripts with their pinned versions (etcd, Kubernetes,
# Temporal, Helm, local-path-provisioner) and docker/versions.env (the pinned Node 24 and Temporal
# server) plus the Node.js version. The stamp lives in node_modules
# (deleting node_modules redoes set-up) and lists the tools setup.sh put in .tools/bin; each of them
# must still be executable. Debian packages removed afterwards are not noticed: `npm run setup`
# (this script with --force) always runs the whole set-up.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

key() {
  { sha256sum package-lock.json scripts/setup.sh scripts/build-etcd.sh scripts/build-kubernetes.sh scripts/build-temporal.sh scripts/build-helm.sh scripts/lib/cached-build.sh scripts/build-local-path-provisioner.sh docker/versions.env; node --version; } | sha256sum | cut -c1-16
}

# Why set-up must run, or nothing when it is up to date.
stale_reason() {
  local stamp="node_modules/.mooring-setup/$(key)" tool
  [ -d node_modules ] || { echo "node_modules is missing"; return; }
  [ -f node_modules/.package-lock.json ] || { echo "npm dependencies are not installed"; return; }
  [ -f "$stamp" ] || { echo "first run, or package-lock.json, scripts/setup.sh, docker/versions.env or Node.js changed"; return; }
  while IFS= read -r tool; do
    [ -z "$tool" ] || [ -x ".tools/bin/$tool" ] || { echo ".tools/bin/$tool is missing"; return; }
  done <"$stamp"
}

force=0
[ "${1:-}" = --force ] && force=1

if [ $force = 0 ]; then
  reason=$(stale_reason)
  if [ -z "$reason" ]; then
    say "up to date (npm run setup redoes it)"
    exit 0
  fi
  say "$reason: running scripts/setup.sh"
fi

# Two `npm test` started together would both install; the second waits and then finds it done.
mkdir -p .tools
exec 9>.tools/setup.lock
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  say "another set-up is running; waiting for it"
  flock 9
  if [ $force = 0 ] && [ -z "$(stale_reason)" ]; then
    say "up to date"
    exit 0
  fi
fi

bash scripts/setup.sh

# After setup.sh: `npm install` may have rewritten package-lock.json, so the key is taken now.
mkdir -p node_modules/.mooring-setup
stamp="node_modules/.mooring-setup/$(key)"
if [ -d .tools/bin ]; then
  (cd .tools/bin && for t in *; do [ -x "$t" ] && printf '%s\n' "$t"; done) >"$stamp.tmp" || true
else
  : >"$stamp.tmp"
fi
mv "$stamp.tmp" "$stamp"
