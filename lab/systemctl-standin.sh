#!/bin/bash
# SIMULATED systemctl for lab nodes (installed as /usr/local/sbin/systemctl in each node's own
# filesystem view). It knows two units: kubelet (below) and etcd, and for etcd runs the node's REAL etcd from the node's REAL
# /etc/etcd/etcd.conf.yaml, detached from the SSH session, answering like systemd does. The etcd is
# the one installed on the node: a built release the lab put in /usr/local/sbin, else Debian's
# /usr/bin/etcd (as a unit's ExecStart names the binary its package installed).
set -u
node_dir="${MOORING_LAB_NODE_DIR:?SIMULATED systemctl: run inside a lab node}"
pidfile="$node_dir/etcd.pid"
log="$node_dir/etcd.log"

action=""; unit=""; quiet=0; signal=TERM
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet|-q) quiet=1 ;;
    -s|--signal) shift; signal="${1#SIG}" ;;
    --signal=*) signal="${1#--signal=}"; signal="${signal#SIG}" ;;
    --no-pager|--no-block|--now) ;;
    -*) ;;
    *) if [ -z "$action" ]; then action="$1"; else unit="${1%.service}"; fi ;;
  esac
  shift
done

# Running means: the recorded pid is an etcd that has not exited (a reused pid or a zombie is not).
running() {
  local pid state
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = etcd ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}

case "$action" in
  daemon-reload) exit 0 ;;
esac
# The kubelet unit of the Kubernetes lab: the SIMULATED kubelet (lab/kubelet/) with the arguments
# the lab started it with ($node_dir/kubelet.args, one per line, as a unit's ExecStart), so an
# upgrade's `systemctl restart kubelet` runs the newly installed /usr/local/sbin/kubelet. A stopped
# kubelet leaves the static pods running (containers outlive it); the new one adopts them.
if [ "$unit" = "kubelet" ]; then
  kpid="$node_dir/kubelet.pid"
  kargs="$node_dir/kubelet.args"
  krunning() {
    local pid
    [ -f "$kpid" ] || return 1
    pid=$(cat "$kpid")
    tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q -- '--node-name' || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
  }
  case "$action" in
    start)
      krunning && exit 0
      [ -f "$kargs" ] || { echo "kubelet.service: $kargs missing (started by the lab?)" >&2; exit 1; }
      mapfile -t argv < "$kargs"
      setsid /usr/local/sbin/kubelet "${argv[@]}" >>"$node_dir/kubelet.log" 2>&1 </dev/null &
      echo $! > "$kpid"
      sleep 0.3
      krunning || { echo "Job for kubelet.service failed: see $node_dir/kubelet.log" >&2; exit 1; }
      ;;
    stop)
      krunning || exit 0
      pid=$(cat "$kpid")
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      ;;
    restart) "$0" stop kubelet && "$0" start kubelet ;;
    is-active)
      if krunning; then [ $quiet = 1 ] || echo active; exit 0; else [ $quiet = 1 ] || echo inactive; exit 3; fi ;;
    *) echo "SIMULATED systemctl: unsupported action '$action' for kubelet" >&2; exit 1 ;;
  esac
  exit 0
fi
if [ "$unit" != "etcd" ]; then
  echo "Unit ${unit:-?}.service not found. (SIMULATED lab systemctl knows etcd and kubelet only)" >&2
  exit 5
fi

case "$action" in
  start)
    running && exit 0
    [ -f /etc/etcd/etcd.conf.yaml ] || { echo "etcd.service: /etc/etcd/etcd.conf.yaml missing" >&2; exit 1; }
    # Its own session, so it outlives the SSH session that started it (as under systemd). A
    # background job of a non-interactive shell leads no process group, so setsid does not fork
    # and $! is etcd's own pid.
    etcd_bin=/usr/bin/etcd
    [ -x /usr/local/sbin/etcd ] && etcd_bin=/usr/local/sbin/etcd
    setsid "$etcd_bin" --config-file /etc/etcd/etcd.conf.yaml >>"$log" 2>&1 </dev/null &
    echo $! > "$pidfile"
    sleep 0.3
    running || { echo "Job for etcd.service failed: see $log" >&2; exit 1; }
    ;;
  stop)
    running || exit 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
  restart)
    "$0" stop etcd && "$0" start etcd
    ;;
  kill)
    running && kill "-$signal" "$(cat "$pidfile")"
    ;;
  is-active)
    if running; then [ $quiet = 1 ] || echo active; exit 0; else [ $quiet = 1 ] || echo inactive; exit 3; fi
    ;;
  status)
    if running; then echo "● etcd.service - etcd (SIMULATED unit)"; echo "   Active: active (running), main PID $(cat "$pidfile")"; exit 0
    else echo "● etcd.service - etcd (SIMULATED unit)"; echo "   Active: inactive (dead)"; exit 3; fi
    ;;
  *)
    echo "SIMULATED systemctl: unsupported action '$action'" >&2
    exit 1
    ;;
esac
