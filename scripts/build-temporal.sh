#!/usr/bin/env bash
# Builds the Temporal server and its SQL schema tool of the release docker-compose.yml pins
# (TEMPORAL_VERSION in docker/versions.env) from the Go module proxy, and caches them outside the
# clone:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mooring/temporal/<version>/{temporal-server,temporal-sql-tool}
# The production-stack test runs exactly these, on PostgreSQL, the way compose runs the images.
# A version already in the cache is only checked (well under a second); a build is renamed into
# place only once both binaries report the right version (scripts/lib/cached-build.sh).
#
# Usage: scripts/build-temporal.sh [VERSION]     (default: TEMPORAL_VERSION of docker/versions.env)
#
# go.temporal.io/server's go.mod has no `replace` lines, so `go install pkg@version` builds the
# released main packages unchanged: cmd/server (temporal-server) and cmd/tools/sql (temporal-sql-tool,
# the admin-tools image's schema tool; the schemas are embedded in it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The module's go.mod asks for a newer Go than Debian or most machines have (1.32.2: go 1.26.10).
# A pinned toolchain, fetched once by the go command through the proxy, also makes every machine
# build with the same compiler.
TEMPORAL_GO_TOOLCHAIN=go1.27.3

say() { printf '\033[1mbuild-temporal:\033[0m %s\n' "$*"; }
fail() {
  say "$1"
  shift
  for line in "$@"; do echo "  $line"; done
  exit 1
}

version=${1:-$(sed -n 's/^TEMPORAL_VERSION=//p' docker/versions.env)}
version=${version#v}
[[ "$version" =~ ^1\.[0-9]+\.[0-9]+$ ]] || fail "Temporal version '$version' is not of the form 1.M.P (TEMPORAL_VERSION in docker/versions.env)."
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mooring/temporal"
dest="$cache_root/$version"

command -v go >/dev/null 2>&1 || fail "Go is not on PATH; the Temporal server build needs Go 1.21 or later (it fetches $TEMPORAL_GO_TOOLCHAIN itself)." \
  "Install it from https://go.dev/dl/, then run set-up again."

# Good when both run and name the version the directory is named after.
cached_ok() {
  local dir=$1 out
  [ -x "$dir/temporal-server" ] && [ -x "$dir/temporal-sql-tool" ] || return 1
  out=$("$dir/temporal-server" --version 2>/dev/null) && grep -q "version $version\$" <<<"$out" || return 1
  out=$("$dir/temporal-sql-tool" --version 2>/dev/null) && grep -q "version $version\$" <<<"$out" || return 1
}

build() {
  local work=$1
  say "building $what (temporal-server, temporal-sql-tool; 10-20 minutes on 2 cores, once)"
  (
    export GOTOOLCHAIN="$TEMPORAL_GO_TOOLCHAIN" CGO_ENABLED=0 GOBIN="$work/bin"
    go install -trimpath -ldflags '-s -w' \
      "go.temporal.io/server/cmd/server@v$version" "go.temporal.io/server/cmd/tools/sql@v$version"
  ) >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    fail "building $what failed (log above)." \
      "Check that Go can reach the module proxy: go list -m -versions go.temporal.io/server" \
      "Then run: scripts/build-temporal.sh $version"
  }
  mkdir -p "$work/out"
  mv "$work/bin/server" "$work/out/temporal-server"
  mv "$work/bin/sql" "$work/out/temporal-sql-tool"
}

# shellcheck source=scripts/lib/cached-build.sh
. scripts/lib/cached-build.sh
what="Temporal server $version"
cached_build build
