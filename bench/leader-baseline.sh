#!/bin/bash
# Baseline for bench/recovery.ts: the leader recovery as a person would type it, over plain ssh:
# wait until a surviving member reports itself leader (etcdctl endpoint status), then the follower
# steps for the old leader (follower-baseline.sh) through the new leader.
# Usage: leader-baseline.sh KEY OLD_LEADER_NAME OLD_LEADER_IP ALL_CLIENT_URLS INITIAL_CLUSTER SURVIVOR_IP...
set -euo pipefail
key="$1"; name="$2"; ip="$3"; endpoints="$4"; initial="$5"; shift 5
source "$(dirname "$0")/timing.sh"
tls="--cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key"
step election
leader=""
while [ -z "$leader" ]; do
  for s in "$@"; do
    # endpoint status -w simple: endpoint, ID, version, db size, IS LEADER, is learner, term, ...
    if ssh_ "$s" "ETCDCTL_API=3 etcdctl --endpoints=https://$s:2379 $tls --command-timeout=2s endpoint status" 2>/dev/null | awk -F', ' '$5=="true" {found=1} END {exit !found}'; then
      leader="$s"; break
    fi
  done
  [ -n "$leader" ] || sleep 0.5
done
_flush
exec "$(dirname "$0")/follower-baseline.sh" "$key" "$leader" "$name" "$ip" "$endpoints" "$initial"
