#!/bin/bash
# SIMULATED systemctl for lab nodes (installed as /usr/local/sbin/systemctl in each node's own
# filesystem view). It knows the units a lab node can have and runs each one's REAL program (or
# the SIMULATED kubelet/containerd) detached from the SSH session, answering like systemd does:
# - etcd: the node's REAL etcd from the node's REAL /etc/etcd/etcd.conf.yaml. The etcd is the one
#   installed on the node: a built release the lab put in /usr/local/sbin, else Debian's
#   /usr/bin/etcd (as a unit's ExecStart names the binary its package installed). When the node has
#   /etc/systemd/system/etcd.service (the host phase's external etcd), its ExecStart is run instead.
# - haproxy, keepalived (bare lab nodes): Debian's REAL programs on /etc/haproxy/haproxy.cfg and
#   /etc/keepalived/keepalived.conf, each checked (-c / -t) before it starts, as their units do.
# - kubelet, containerd: only once the SIMULATED apt-get "installed" them (lab/packages/apt.ts):
#   the SIMULATED kubelet with the node's name and the --node-ip of /etc/default/kubelet;
#   containerd has no process (no container runtime runs in the lab).
# - kubelet on a node of `mooring lab up --kubernetes` (it has kubelet.args): the SIMULATED kubelet
#   with the arguments the lab started it with (below).
set -u
node_dir="${MOORING_LAB_NODE_DIR:?SIMULATED systemctl: run inside a lab node}"

action=""; unit=""; quiet=0; signal=TERM; now=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet|-q) quiet=1 ;;
    -s|--signal) shift; signal="${1#SIG}" ;;
    --signal=*) signal="${1#--signal=}"; signal="${signal#SIG}" ;;
    --now) now=1 ;;
    --no-pager|--no-block) ;;
    -*) ;;
    *) if [ -z "$action" ]; then action="$1"; else unit="${1%.service}"; fi ;;
  esac
  shift
done

node_name=$(basename "$node_dir")
unit_file_missing() { echo "Unit ${unit:-?}.service not found. (SIMULATED lab systemctl)" >&2; exit 5; }
# The kubelet unit of the Kubernetes lab: the SIMULATED kubelet (lab/kubelet/) with the arguments
# the lab started it with ($node_dir/kubelet.args, one per line, as a unit's ExecStart), so an
# upgrade's `systemctl restart kubelet` runs the newly installed /usr/local/sbin/kubelet. A stopped
# kubelet leaves the static pods running (containers outlive it); the new one adopts them.
if [ "$unit" = "kubelet" ] && [ -f "$node_dir/kubelet.args" ]; then
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
case "$unit" in
  etcd) pidfile="$node_dir/etcd.pid"; comm=etcd ;;
  haproxy|keepalived) [ -x "/usr/sbin/$unit" ] || unit_file_missing; pidfile="$node_dir/unit-$unit.pid"; comm=$unit ;;
  kubelet) [ -f "$node_dir/kubelet.unit" ] || unit_file_missing; pidfile="$node_dir/unit-kubelet.pid"; comm="" ;;
  containerd) [ -x /usr/local/sbin/containerd ] || unit_file_missing; pidfile="" ;;
  "") ;;
  *) unit_file_missing ;;
esac
log="$node_dir/$unit.log"

# Running means: the recorded pid is the unit's program and has not exited (a reused pid or a
# zombie is not). The SIMULATED kubelet is a node process: known by its --node-name argument.
running() {
  local pid state
  if [ "$unit" = containerd ]; then [ -f "$node_dir/containerd.active" ]; return; fi
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  if [ -n "$comm" ]; then
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  else
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--node-name=$node_name " || return 1
  fi
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}

# The unit's program in its own session, so it outlives the SSH session that started it (as
# under systemd). A background job of a non-interactive shell leads no process group, so setsid
# does not fork and $! is the program's own pid.
start_unit() {
  case "$unit" in
    etcd)
      unit_file=/etc/systemd/system/etcd.service
      if [ -f "$unit_file" ]; then
        # A unit the host phase wrote (external etcd): its ExecStart, as systemd would run it.
        exec_start=$(sed -n 's/^ExecStart=//p' "$unit_file")
        read -r -a argv <<< "$exec_start"
        [ "${#argv[@]}" -gt 0 ] && [ -x "${argv[0]}" ] || { echo "etcd.service: ExecStart '${exec_start}' of $unit_file is not an executable" >&2; exit 1; }
        setsid "${argv[@]}" >>"$log" 2>&1 </dev/null &
      else
        [ -f /etc/etcd/etcd.conf.yaml ] || { echo "etcd.service: /etc/etcd/etcd.conf.yaml missing" >&2; exit 1; }
        etcd_bin=/usr/bin/etcd
        [ -x /usr/local/sbin/etcd ] && etcd_bin=/usr/local/sbin/etcd
        setsid "$etcd_bin" --config-file /etc/etcd/etcd.conf.yaml >>"$log" 2>&1 </dev/null &
      fi
      ;;
    haproxy)
      /usr/sbin/haproxy -c -q -f /etc/haproxy/haproxy.cfg >>"$log" 2>&1 || { echo "haproxy.service: haproxy -c failed: see $log" >&2; exit 1; }
      setsid /usr/sbin/haproxy -db -f /etc/haproxy/haproxy.cfg >>"$log" 2>&1 </dev/null &
      ;;
    keepalived)
      /usr/sbin/keepalived -t -f /etc/keepalived/keepalived.conf >>"$log" 2>&1 || { echo "keepalived.service: keepalived -t failed: see $log" >&2; exit 1; }
      # Its own pid files per node (the machine's default ones may name another node's keepalived);
      # this unit is not running (checked by the caller), so any left from a killed one are stale.
      rm -f "$node_dir"/keepalived-{main,vrrp,checkers}.pid
      setsid /usr/sbin/keepalived --dont-fork --log-console --log-detail -f /etc/keepalived/keepalived.conf \
        -p "$node_dir/keepalived-main.pid" -r "$node_dir/keepalived-vrrp.pid" -c "$node_dir/keepalived-checkers.pid" >>"$log" 2>&1 </dev/null &
      ;;
    kubelet)
      binaries=$(sed -n 's/^binaries=//p' "$node_dir/kubelet.unit")
      extra=$(sed -n 's/^KUBELET_EXTRA_ARGS=//p' /etc/default/kubelet 2>/dev/null)
      node_ip=""
      for a in $extra; do
        case "$a" in --node-ip=*) node_ip="${a#--node-ip=}" ;; *) echo "kubelet.service: KUBELET_EXTRA_ARGS: $a is not simulated (only --node-ip)" >&2; exit 1 ;; esac
      done
      setsid /usr/local/sbin/kubelet "--node-name=$node_name" --manifests=/etc/kubernetes/manifests --kubeconfig=/etc/kubernetes/kubelet.conf \
        --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --state-dir=/var/lib/kubelet "--binaries=$binaries" ${node_ip:+"--node-ip=$node_ip"} >>"$log" 2>&1 </dev/null &
      ;;
    containerd)
      touch "$node_dir/containerd.active"; return
      ;;
  esac
  echo $! > "$pidfile"
  sleep 0.3
  running || { echo "Job for $unit.service failed: see $log" >&2; exit 1; }
}

case "$action" in
  daemon-reload) exit 0 ;;
esac
[ -n "$unit" ] || unit_file_missing

case "$action" in
  start)
    running && exit 0
    start_unit
    ;;
  enable)
    [ "$now" = 1 ] && { running || start_unit; }
    exit 0
    ;;
  stop)
    running || exit 0
    [ "$unit" = containerd ] && { rm -f "$node_dir/containerd.active"; exit 0; }
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
  restart)
    "$0" stop "$unit" && "$0" start "$unit"
    ;;
  kill)
    running && kill "-$signal" "$(cat "$pidfile")"
    ;;
  is-active)
    if running; then [ $quiet = 1 ] || echo active; exit 0; else [ $quiet = 1 ] || echo inactive; exit 3; fi
    ;;
  status)
    if running; then echo "● $unit.service - $unit (SIMULATED unit)"; echo "   Active: active (running)${pidfile:+, main PID $(cat "$pidfile")}"; exit 0
    else echo "● $unit.service - $unit (SIMULATED unit)"; echo "   Active: inactive (dead)"; exit 3; fi
    ;;
  *)
    echo "SIMULATED systemctl: unsupported action '$action'" >&2
    exit 1
    ;;
esac
