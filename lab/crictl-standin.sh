#!/bin/bash
# SIMULATED crictl for lab nodes (installed as /usr/local/sbin/crictl in each node's own
# filesystem view). The lab runs no kubelet: on a master it pretends the kubeadm static pods
# kube-apiserver, kube-controller-manager and kube-scheduler run as containers, and `crictl stop`
# "restarts" them the way the kubelet would: a new container ID that is created at once and runs
# only after a start-up delay ($MOORING_LAB_CONTAINER_START_SECONDS, default 2; or the number in
# $MOORING_LAB_NODE_DIR/container-start-seconds), like a static pod coming back. Each stop is
# recorded in $MOORING_LAB_NODE_DIR/control-plane-restarts.log (time, name, old ID, new ID) and
# each container seen running for the first time in control-plane-running.log (time, name, ID), for
# tests. Not part of Mooring's production path.
set -u
node_dir="${MOORING_LAB_NODE_DIR:?SIMULATED crictl: run inside a lab node}"
state="$node_dir/containers"
lock="$node_dir/containers.lock"
exec 9>"$lock"
flock 9
new_id() { head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
now=$(date +%s.%N)
# Only masters have control-plane static pods (the lab puts kubeadm's etcd client cert there).
if [ ! -f "$state" ] && [ -f /etc/kubernetes/pki/apiserver-etcd-client.crt ]; then
  for c in kube-apiserver kube-controller-manager kube-scheduler; do echo "$c $(new_id) 0"; done > "$state"
fi
[ -f "$state" ] || touch "$state"
delay="${MOORING_LAB_CONTAINER_START_SECONDS:-}"
[ -n "$delay" ] || delay=$(cat "$node_dir/container-start-seconds" 2>/dev/null || echo 2)

# STATE of a container from its "runs after" time: CONTAINER_CREATED until then, then running
# (and logged once as running).
state_of() {
  local n="$1" id="$2" after="${3:-0}"
  if awk -v a="$after" -v t="$now" 'BEGIN { exit !(t >= a) }'; then
    if ! grep -q "	$id$" "$node_dir/control-plane-running.log" 2>/dev/null; then
      printf '%s\t%s\t%s\n' "$now" "$n" "$id" >> "$node_dir/control-plane-running.log"
    fi
    echo CONTAINER_RUNNING
  else
    echo CONTAINER_CREATED
  fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  ps)
    name=""; quiet=0; all=0; json=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --name) shift; name="$1" ;;
        --name=*) name="${1#--name=}" ;;
        -q|--quiet) quiet=1 ;;
        -a|--all) all=1 ;;
        -o|--output) shift; [ "$1" = json ] && json=1 ;;
        --output=json|-ojson) json=1 ;;
      esac
      shift
    done
    sep=""
    [ "$json" = 1 ] && printf '{\n  "containers": ['
    while read -r n id after; do
      [ -z "$n" ] && continue
      st=$(state_of "$n" "$id" "$after")
      [ "$all" = 1 ] || [ "$st" = CONTAINER_RUNNING ] || continue
      if [ -z "$name" ] || [[ "$n" =~ $name ]]; then
        if [ "$json" = 1 ]; then
          printf '%s\n    {\n      "id": "%s",\n      "metadata": {\n        "name": "%s",\n        "attempt": 0\n      },\n      "state": "%s"\n    }' "$sep" "$id" "$n" "$st"
          sep=","
        elif [ "$quiet" = 1 ]; then echo "$id"
        else echo "$id  SIMULATED-image  $([ "$st" = CONTAINER_RUNNING ] && echo Running || echo Created)  $n"; fi
      fi
    done < "$state"
    [ "$json" = 1 ] && printf '\n  ]\n}\n'
    ;;
  stop)
    [ $# -gt 0 ] || { echo "crictl stop: ID required" >&2; exit 1; }
    for id in "$@"; do
      n=$(awk -v id="$id" '$2 == id {print $1}' "$state")
      [ -n "$n" ] || { echo "crictl stop: container \"$id\" not found" >&2; exit 1; }
      new=$(new_id)
      after=$(awk -v t="$now" -v d="$delay" 'BEGIN { printf "%.3f", t + d }')
      awk -v id="$id" -v new="$new" -v after="$after" '$2 == id {$2 = new; $3 = after} {print}' "$state" > "$state.tmp" && mv "$state.tmp" "$state"
      printf '%s\t%s\t%s\t%s\n' "$now" "$n" "$id" "$new" >> "$node_dir/control-plane-restarts.log"
      echo "$id"
    done
    ;;
  *) echo "SIMULATED crictl: only ps and stop are simulated" >&2; exit 1 ;;
esac
