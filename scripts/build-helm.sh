#!/usr/bin/env bash
# Builds the Helm CLI of the release Mooring tests from the Go module proxy and caches it outside
# the clone:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mooring/helm/v<version>/helm
# The lab's SIMULATED apt-get "installs" the helm package on a master as a link to this build, so
# `helm version` and `helm list` in the lab are the real program against the real kube-apiserver.
# A version already in the cache is only checked (well under a second); a build is renamed into
# place only once the binary reports the right version (scripts/lib/cached-build.sh).
#
# Usage: scripts/build-helm.sh [VERSION]     (default: HELM_VERSION below, the inventory's default)
#
# helm.sh/helm/v4's go.mod has no `replace` lines, so `go install helm.sh/helm/v4/cmd/helm@vX`
# builds the released main package unchanged. Its version is a variable the release Makefile sets
# with -ldflags (internal/version.version); without it the binary says only "v4.3".
set -euo pipefail
cd "$(dirname "$0")/.."

# The default of kubernetes.helm.version in config/schema.ts (HELM_DEFAULT_VERSION): keep them equal.
HELM_VERSION=4.3.2

say() { printf '\033[1mbuild-helm:\033[0m %s\n' "$*"; }
fail() {
  say "$1"
  shift
  for line in "$@"; do echo "  $line"; done
  exit 1
}

version=${1:-$HELM_VERSION}
version=${version#v}
[[ "$version" =~ ^[34]\.[0-9]+\.[0-9]+$ ]] || fail "Helm version '$version' is not a Helm 3 or 4 release of the form M.N.P (e.g. $HELM_VERSION)."
major=${version%%.*}
module="helm.sh/helm/v$major"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mooring/helm"
dest="$cache_root/v$version"

command -v go >/dev/null 2>&1 || fail "Go is not on PATH; the Helm build needs Go 1.26 or later." \
  "Install it from https://go.dev/dl/ (or your distribution's golang package), then run set-up again."

# Good when it runs and reports exactly the version the directory is named after. Output is
# captured first (a `grep -q` quitting early would SIGPIPE helm and fail the pipeline).
cached_ok() {
  local dir=$1 out
  [ -x "$dir/helm" ] || return 1
  out=$("$dir/helm" version --template '{{.Version}}' 2>/dev/null) && [ "$out" = "v$version" ]
}

build() {
  local work=$1
  say "building $what (cmd/helm; a few minutes on 2 cores, once)"
  (
    # gitCommit and gitTreeState stay empty: the module proxy serves the tree, not the repository
    # (so `helm version --short` prints just v<version>, without the +g<commit> of a release build).
    export CGO_ENABLED=0 GOBIN="$work/bin"
    nice -n 19 go install -trimpath -ldflags "-s -w -X $module/internal/version.version=v$version" "$module/cmd/helm@v$version"
  ) >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    fail "building $what failed (log above)." \
      "Check that Go can reach the module proxy: go list -m -versions $module" \
      "and that 'go version' is at least the 'go' line of $module@v$version's go.mod" \
      "(a newer one: export GOTOOLCHAIN=go1.N.M and run set-up again)." \
      "Then run: scripts/build-helm.sh $version"
  }
  mkdir -p "$work/out"
  mv "$work/bin/helm" "$work/out/helm"
}

# shellcheck source=scripts/lib/cached-build.sh
. scripts/lib/cached-build.sh
what="Helm $version"
cached_build build
