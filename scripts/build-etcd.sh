#!/usr/bin/env bash
# Builds etcd, etcdctl and etcdutl of pinned releases from the Go module proxy and caches them
# outside the clone, one directory per version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mooring/etcd/<version>/{etcd,etcdctl,etcdutl}
# A version already in the cache is only checked (seconds). A build happens in a temporary
# directory next to the cache and is renamed into place when all three binaries run and report
# the right version, so a killed or failed build never leaves a half-filled cache entry.
#
# Usage: scripts/build-etcd.sh [VERSION...]     (default: the pinned versions below)
#
# Why a wrapper module: etcd's own go.mod files carry `replace` lines, so
# `go install go.etcd.io/etcd/server/v3@vX` is refused. A small module that requires the
# published modules and holds each tool's `package main` builds the same binaries.
set -euo pipefail

# Latest patch of each minor on proxy.golang.org when pinned. 3.7.4 is for the Kubernetes lab only:
# kubeadm 1.37 upgrades its stacked etcd to 3.7 (image etcd:3.7.0-0), which the SIMULATED kubelet
# runs from this cache; the etcd labs do not offer 3.7 (lab/etcd-versions.ts PINNED_ETCD).
ETCD_PINNED_VERSIONS=(3.5.35 3.6.16 3.7.4)

say() { printf '\033[1mbuild-etcd:\033[0m %s\n' "$*"; }
fail() {
  say "$1"
  shift
  for line in "$@"; do echo "  $line"; done
  exit 1
}

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${ETCD_PINNED_VERSIONS[@]}")
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mooring/etcd"

command -v go >/dev/null 2>&1 || fail "Go is not on PATH; the etcd builds need Go 1.26 or later." \
  "Install it from https://go.dev/dl/ (or your distribution's golang package), then run set-up again." \
  "The lab still runs Debian's etcd 3.4 without these builds."

# The binaries report their version from a constant compiled in; a cache entry is good when all
# three are executable and etcd says the version the directory is named after.
cached_ok() {
  local dir=$1 version=$2
  [ -x "$dir/etcd" ] && [ -x "$dir/etcdctl" ] && [ -x "$dir/etcdutl" ] || return 1
  # Output captured first: `grep -q` quitting early would SIGPIPE the tool and fail the pipeline.
  local out
  out=$("$dir/etcd" --version 2>/dev/null) && grep -qx "etcd Version: $version" <<<"$out" || return 1
  out=$("$dir/etcdctl" version 2>/dev/null) && grep -qx "etcdctl version: $version" <<<"$out" || return 1
  out=$("$dir/etcdutl" version 2>/dev/null) && grep -qx "etcdutl version: $version" <<<"$out" || return 1
}

build_one() {
  local version=$1 dest="$cache_root/$1"
  if cached_ok "$dest" "$version"; then
    say "etcd $version cached in $dest"
    return 0
  fi
  mkdir -p "$cache_root"
  local work
  work=$(mktemp -d "$cache_root/.build-$version.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this build's directory
  trap "rm -rf '$work'" EXIT
  local started=$SECONDS
  say "building etcd $version (etcd, etcdctl, etcdutl; a few minutes on 2 cores)"
  mkdir -p "$work/src/etcd" "$work/src/etcdctl" "$work/src/etcdutl" "$work/out"
  cat >"$work/src/go.mod" <<EOF
module mooring.local/etcd-build

go 1.26

require (
	go.etcd.io/etcd/server/v3 v$version
	go.etcd.io/etcd/etcdctl/v3 v$version
	go.etcd.io/etcd/etcdutl/v3 v$version
)
EOF
  cat >"$work/src/etcd/main.go" <<'EOF'
// etcd: the server, as etcd's own main does it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
  (
    cd "$work/src"
    # Each tool's own `package main` (main.go, ctl.go) from the released module, unchanged.
    go mod download go.etcd.io/etcd/etcdctl/v3@"v$version" go.etcd.io/etcd/etcdutl/v3@"v$version"
    for tool in etcdctl etcdutl; do
      mod_dir=$(go mod download -json go.etcd.io/etcd/$tool/v3@"v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      [ -n "$mod_dir" ] || { echo "no module directory for $tool v$version" >&2; exit 1; }
      for f in "$mod_dir"/*.go; do
        case "$f" in *_test.go) continue ;; esac
        cp "$f" "$tool/"
        chmod u+w "$tool/$(basename "$f")"
      done
    done
    go mod tidy >/dev/null
    CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/out/" ./etcd ./etcdctl ./etcdutl
  ) >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    fail "building etcd $version failed (log above)." \
      "Check that Go can reach the module proxy: go list -m -versions go.etcd.io/etcd/server/v3" \
      "and that 'go version' is at least the 'go' line of go.etcd.io/etcd/server/v3@v$version's go.mod" \
      "(a newer one: export GOTOOLCHAIN=go1.N.M and run set-up again)." \
      "Then run: scripts/build-etcd.sh $version"
  }
  cached_ok "$work/out" "$version" || fail "the etcd $version build ran but its binaries do not report version $version." \
    "Look at: $work/out/etcd --version; then run: scripts/build-etcd.sh $version"
  # Into place in one rename. An old entry that failed the check is moved aside first, because
  # rename(2) does not replace a non-empty directory.
  if [ -e "$dest" ]; then mv -T "$dest" "$work/old"; fi
  mv -T "$work/out" "$dest"
  rm -rf "$work"
  trap - EXIT
  say "etcd $version built in $((SECONDS - started)) s into $dest"
}

# One build at a time per cache (two set-ups at once wait for each other). Under the lock, any
# .build-* directory is left from a build that was killed (SIGKILL skips the trap): remove it.
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
rm -rf "$cache_root"/.build-*

for v in "${versions[@]}"; do
  v=${v#v}
  [[ "$v" =~ ^3\.[0-9]+\.[0-9]+$ ]] || fail "etcd version '$v' is not of the form 3.M.P (e.g. 3.6.16)."
  build_one "$v"
done
