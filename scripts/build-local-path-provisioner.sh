#!/usr/bin/env bash
# Builds rancher/local-path-provisioner of the pinned release from the Go module proxy and caches
# it outside the clone:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mooring/local-path-provisioner/<version>/local-path-provisioner
# The lab's SIMULATED kubelet runs this real binary for the provisioner's pod (the image
# rancher/local-path-provisioner:<version> of the vendored manifest; docs/kubelet-standin.md).
# A version already in the cache is only checked (seconds); a build is renamed into place only
# once the binary reports the right version (scripts/lib/cached-build.sh).
#
# Usage: scripts/build-local-path-provisioner.sh [VERSION]     (default: the pinned version below)
#
# The module has no `replace` lines, so it builds as it is, from a copy of the module's own
# directory with its go.sum (module zips leave vendor/ out but vendor/modules.txt, which is removed
# so that the dependencies come from the module proxy); its go.mod says go 1.23, which the
# machine's Go (1.26) builds.
set -euo pipefail
cd "$(dirname "$0")/.."

# addons/local-path-storage/v0.0.30/local-path-storage.yaml names this release's image.
LOCAL_PATH_PINNED_VERSION=v0.0.30
MODULE=github.com/rancher/local-path-provisioner

say() { printf '\033[1mbuild-local-path-provisioner:\033[0m %s\n' "$*"; }
fail() {
  say "$1"
  shift
  for line in "$@"; do echo "  $line"; done
  exit 1
}

version=${1:-$LOCAL_PATH_PINNED_VERSION}
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "local-path-provisioner version '$version' is not of the form vM.N.P (e.g. v0.0.30)."
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mooring/local-path-provisioner"
dest="$cache_root/$version"

command -v go >/dev/null 2>&1 || fail "Go is not on PATH; the local-path-provisioner build needs Go 1.23 or later." \
  "Install it from https://go.dev/dl/ (or your distribution's golang package), then run set-up again."

# The binary is a urfave/cli program: `--version` prints "<name> version <VERSION>", the version
# stamped by -ldflags as the project's own scripts/build does (main.VERSION).
cached_ok() {
  local dir=$1 out
  [ -x "$dir/local-path-provisioner" ] || return 1
  out=$("$dir/local-path-provisioner" --version 2>/dev/null) && grep -q " version $version\$" <<<"$out"
}

build() {
  local work=$1
  say "building $what (about 4 minutes on 2 loaded cores, once)"
  (
    mod_dir=$(GOFLAGS=-mod=mod go mod download -json "$MODULE@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$mod_dir" ] || { echo "no module directory for $MODULE@$version" >&2; exit 1; }
    # The module cache is read-only: build from a writable copy.
    cp -r "$mod_dir" "$work/src"
    chmod -R u+w "$work/src"
    rm -rf "$work/src/vendor"
    cd "$work/src"
    mkdir -p "$work/out"
    CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w -X main.VERSION=$version" -o "$work/out/local-path-provisioner" .
  ) >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    fail "building $what failed (log above)." \
      "Check that Go can reach the module proxy: go list -m -versions $MODULE" \
      "and that 'go version' is at least the 'go' line of its go.mod (a newer one: export GOTOOLCHAIN=go1.N.M)." \
      "Then run: scripts/build-local-path-provisioner.sh $version"
  }
}

# shellcheck source=scripts/lib/cached-build.sh
. scripts/lib/cached-build.sh
what="local-path-provisioner $version"
cached_build build
