#!/usr/bin/env bash
# Installs Debian packages without starting their services, and without touching any service
# that already runs: this machine may run a production etcd, HAProxy or keepalived, and the lab
# runs its own copies on its own addresses. Never stops anything by name.
#
# How: while the install runs, /usr/sbin/policy-rc.d answers 101 ("action forbidden"), which
# invoke-rc.d and deb-systemd-invoke (what maintainer scripts call to start a unit) obey. The file
# is put there only if none exists, and removed afterwards only if it is ours. An administrator's
# own policy-rc.d is left as it is and obeyed; then a service the install did start (inactive
# before, active after, by its systemd unit or its pid file) is stopped, and nothing else.
#
# Usage: scripts/apt-install-no-start.sh PACKAGE|./file.deb ...   (as root)
set -euo pipefail

POLICY=/usr/sbin/policy-rc.d
# The services the lab's packages bring (ssh: openssh-server). The test of this script names its
# fake package's service instead.
read -r -a SERVICES <<<"${MOORING_SETUP_SERVICES:-etcd haproxy keepalived ssh}"
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }

ours=0
cleanup() {
  if [ "$ours" = 1 ] && grep -q 'written by Mooring' "$POLICY" 2>/dev/null; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
  say "$POLICY exists (not Mooring's): left as it is; services it lets the install start are stopped after"
else
  # Written to a temporary name and renamed: dpkg never sees a half-written policy.
  tmp=$(mktemp "$POLICY.mooring.XXXXXX")
  printf '#!/bin/sh\n# written by Mooring scripts/apt-install-no-start.sh for the duration of one install; removed after it.\nexit 101\n' >"$tmp"
  chmod 755 "$tmp"
  mv -f "$tmp" "$POLICY"
  ours=1
fi

systemd_up() { [ -d /run/systemd/system ]; }
# The pid a service's pid file names, if that process runs (pid files under /run, as the
# Debian init scripts write them).
pidfile_pid() {
  local f pid
  for f in "/run/$1.pid" "/run/$1/$1.pid" "/var/run/$1.pid"; do
    [ -f "$f" ] || continue
    pid=$(tr -dc '0-9' <"$f")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  done
  return 1
}
active() {
  if systemd_up; then systemctl is-active --quiet "$1" 2>/dev/null; else pidfile_pid "$1" >/dev/null; fi
}

declare -A before=()
for s in "${SERVICES[@]}"; do if active "$s"; then before[$s]=1; fi; done

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null

# Only with a foreign policy can the install have started something: stop exactly that.
for s in "${SERVICES[@]}"; do
  [ -z "${before[$s]:-}" ] || continue
  active "$s" || continue
  say "the install started $s (it was not running before): stopping that service"
  if systemd_up; then
    systemctl stop "$s"
  else
    pid=$(pidfile_pid "$s") && kill -TERM "$pid"
  fi
done
