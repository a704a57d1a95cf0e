#!/bin/bash
# Baseline for bench/recovery.ts: the follower recovery as a person would type it (seed 001's
# steps, corrected), over plain ssh. Usage: follower-baseline.sh KEY VIA_IP FAILED_NAME FAILED_IP ALL_CLIENT_URLS INITIAL_CLUSTER
set -euo pipefail
key="$1"; via="$2"; name="$3"; ip="$4"; endpoints="$5"; initial="$6"
source "$(dirname "$0")/timing.sh"
ctl="ETCDCTL_API=3 etcdctl --endpoints=$endpoints --cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key"
step remove
id=$(ssh_ "$via" "$ctl member list" | awk -F', ' -v n="$name" '$3==n {print $1}')
[ -n "$id" ] && ssh_ "$via" "$ctl member remove $id"
step fence+move-aside
ssh_ "$ip" "systemctl stop etcd; mv /var/lib/etcd /var/lib/etcd.baseline-$(date +%s) && mkdir -m 700 /var/lib/etcd"
step config
ssh_ "$ip" "sed -i -e 's|^initial-cluster-state: .*|initial-cluster-state: existing|' -e 's|^initial-cluster: .*|initial-cluster: $initial|' /etc/etcd/etcd.conf.yaml"
step add-learner
# Right after an election etcd refuses a change ("unhealthy cluster") for a few seconds: a person types it again.
until out=$(ssh_ "$via" "$ctl member add $name --learner --peer-urls=https://$ip:2380" 2>&1); do
  grep -q 'unhealthy cluster' <<<"$out" || { echo "$out" >&2; exit 1; }
  sleep 0.5
done
new=$(awk '/Member .* added/ {print $2}' <<<"$out")
step start
ssh_ "$ip" "systemctl start etcd"
step promote
until ssh_ "$via" "$ctl member promote $new" >/dev/null 2>&1; do sleep 0.5; done
step healthy
until ssh_ "$ip" "ETCDCTL_API=3 etcdctl --endpoints=https://$ip:2379 --cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key endpoint health" >/dev/null 2>&1; do sleep 0.5; done
