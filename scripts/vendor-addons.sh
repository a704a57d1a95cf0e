#!/usr/bin/env bash
# Re-fetches the addon manifests Mooring ships (addons/) through the Go module proxy and checks
# them against the sha256 sums recorded below and in addons/README.md. Not run by set-up: the
# manifests are committed (nothing may be downloaded when a cluster is provisioned); run this to
# check them, or after changing a version here (then update the sums, addons/README.md and
# activities/addons/catalog.ts, which names the versions the host phase applies).
#
# Usage: scripts/vendor-addons.sh [--check]
#   --check   fetch and compare only; write nothing (exit 1 on a difference)
#
# Why the Go proxy: it is the one public source reachable here that serves both projects' tagged
# trees (flannel and local-path-provisioner are Go modules; their manifests are in the module zip).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

# module@version | path in the module | path under addons/ | sha256
ADDONS=(
  "github.com/flannel-io/flannel@v0.28.10|Documentation/kube-flannel.yml|flannel/v0.28.10/kube-flannel.yml|944a3c1f925f117727a1b7272a323c80965da642498397ec7e6ea9bef0f9e6c5"
  "github.com/rancher/local-path-provisioner@v0.0.30|deploy/local-path-storage.yaml|local-path-storage/v0.0.30/local-path-storage.yaml|fe682186b00400fe7e2b72bae16f63e47a56a6dcc677938c6642139ef670045e"
)

command -v go >/dev/null || { echo "vendor-addons: go is needed (it fetches the modules from the Go module proxy)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# `go mod download` needs a module to run in; an empty throwaway one does.
(cd "$work" && go mod init mooring-vendor-addons >/dev/null 2>&1)

status=0
for entry in "${ADDONS[@]}"; do
  IFS='|' read -r mod src dest want <<<"$entry"
  dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] && [ -f "$dir/$src" ] || { echo "vendor-addons: $mod has no $src" >&2; exit 1; }
  got="$(sha256sum "$dir/$src" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "vendor-addons: $mod $src has sha256 $got, not the recorded $want" >&2
    status=1
    continue
  fi
  target="$ROOT/addons/$dest"
  if [ -f "$target" ] && [ "$(sha256sum "$target" | cut -d' ' -f1)" = "$want" ]; then
    echo "addons/$dest: unchanged ($mod)"
  elif [ "$CHECK_ONLY" = 1 ]; then
    echo "addons/$dest: differs from $mod $src" >&2
    status=1
  else
    mkdir -p "$(dirname "$target")"
    install -m 0644 "$dir/$src" "$target.tmp" && mv "$target.tmp" "$target"
    echo "addons/$dest: written from $mod $src"
  fi
done
exit "$status"
