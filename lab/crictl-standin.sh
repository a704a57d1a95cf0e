#!/bin/bash
# SIMULATED crictl for lab nodes (installed as /usr/local/sbin/crictl in each node's own
# filesystem view). The lab runs no kubelet: on a master it pretends the kubeadm static pods
# kube-apiserver, kube-controller-manager and kube-scheduler run as containers, and `crictl stop`
# "restarts" them the way the kubelet would (a new container ID), recording each restart in
# $MOORING_LAB_NODE_DIR/control-plane-restarts.log for tests. Not part of Mooring's production path.
set -u
node_dir="${MOORING_LAB_NODE_DIR:?SIMULATED crictl: run inside a lab node}"
state="$node_dir/containers"
# Only masters have control-plane static pods (the lab puts kubeadm's etcd client cert there).
if [ ! -f "$state" ] && [ -f /etc/kubernetes/pki/apiserver-etcd-client.crt ]; then
  for c in kube-apiserver kube-controller-manager kube-scheduler; do echo "$c $(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"; done > "$state"
fi
[ -f "$state" ] || touch "$state"

cmd="${1:-}"; shift || true
case "$cmd" in
  ps)
    name=""; quiet=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --name) shift; name="$1" ;;
        --name=*) name="${1#--name=}" ;;
        -q|--quiet) quiet=1 ;;
      esac
      shift
    done
    while read -r n id; do
      [ -z "$n" ] && continue
      if [ -z "$name" ] || [[ "$n" =~ $name ]]; then
        if [ "$quiet" = 1 ]; then echo "$id"; else echo "$id  $n  Running"; fi
      fi
    done < "$state"
    ;;
  stop)
    [ $# -gt 0 ] || { echo "crictl stop: ID required" >&2; exit 1; }
    for id in "$@"; do
      n=$(awk -v id="$id" '$2 == id {print $1}' "$state")
      [ -n "$n" ] || { echo "crictl stop: container \"$id\" not found" >&2; exit 1; }
      new=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
      awk -v id="$id" -v new="$new" '$2 == id {$2 = new} {print}' "$state" > "$state.tmp" && mv "$state.tmp" "$state"
      printf '%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$n" "$id" "$new" >> "$node_dir/control-plane-restarts.log"
      echo "$id"
    done
    ;;
  *) echo "SIMULATED crictl: only ps and stop are simulated" >&2; exit 1 ;;
esac
