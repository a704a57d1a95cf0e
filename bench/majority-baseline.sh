#!/bin/bash
# Baseline for bench/recovery.ts: the majority (quorum lost) recovery done by hand over plain ssh,
# the way etcd's disaster-recovery guide says: stop etcd everywhere, move every data dir aside,
# restore the snapshot on the first member as a new one-member cluster with a new token, then add
# the others back one by one (learner, config with state existing, start, promote), then check.
# Usage: majority-baseline.sh KEY SNAPSHOT_PATH_ON_FIRST NEW_TOKEN NAME=IP... (the first holds the snapshot)
set -euo pipefail
key="$1"; snap="$2"; token="$3"; shift 3
source "$(dirname "$0")/timing.sh"
tls="--cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key"
conf=/etc/etcd/etcd.conf.yaml
names=(); ips=()
for m in "$@"; do names+=("${m%%=*}"); ips+=("${m#*=}"); done
aside="/var/lib/etcd.baseline-$(date +%s)"

# 1. Fence: stop etcd on every member; 2. move every data dir aside (kept, never deleted).
step fence+move-aside
for ip in "${ips[@]}"; do ssh_ "$ip" "systemctl stop etcd && mv /var/lib/etcd $aside"; done

# 3. Restore on the first member as a one-member cluster with a new token; rewrite its config; start.
first="${names[0]}"; fip="${ips[0]}"
cluster="$first=https://$fip:2380"
step restore
# etcd 3.5 moved restore to etcdutl (3.6's etcdctl has none); 3.4 has only etcdctl's.
ssh_ "$fip" "if command -v etcdutl >/dev/null; then restore='etcdutl snapshot restore'; else restore='env ETCDCTL_API=3 etcdctl snapshot restore'; fi; \$restore $snap --name $first --initial-cluster $cluster --initial-cluster-token $token --initial-advertise-peer-urls https://$fip:2380 --data-dir /var/lib/etcd >/dev/null && chmod 700 /var/lib/etcd"
step start-first
ssh_ "$fip" "sed -i -e 's|^initial-cluster: .*|initial-cluster: $cluster|' -e 's|^initial-cluster-state: .*|initial-cluster-state: new|' -e 's|^initial-cluster-token: .*|initial-cluster-token: $token|' $conf && systemctl start etcd"
until ssh_ "$fip" "ETCDCTL_API=3 etcdctl --endpoints=https://$fip:2379 $tls endpoint health" >/dev/null 2>&1; do sleep 0.5; done

# 4. Grow it back: each other member as a learner, config for joining, start, promote.
joined="https://$fip:2379"
for i in $(seq 1 $((${#names[@]} - 1))); do
  n="${names[$i]}"; ip="${ips[$i]}"
  step "grow:$n"
  ctl="ETCDCTL_API=3 etcdctl --endpoints=$joined $tls"
  # A freshly started member refuses membership changes for a few seconds ("unhealthy cluster"): retry.
  until out=$(ssh_ "$fip" "$ctl member add $n --learner --peer-urls=https://$ip:2380" 2>/dev/null); do sleep 0.5; done
  id=$(awk '/Member .* added/ {print $2}' <<<"$out")
  cluster="$cluster,$n=https://$ip:2380"
  ssh_ "$ip" "mkdir -m 700 /var/lib/etcd && sed -i -e 's|^initial-cluster: .*|initial-cluster: $cluster|' -e 's|^initial-cluster-state: .*|initial-cluster-state: existing|' -e 's|^initial-cluster-token: .*|initial-cluster-token: $token|' $conf && systemctl start etcd"
  until ssh_ "$fip" "$ctl member promote $id" >/dev/null 2>&1; do sleep 0.5; done
  joined="$joined,https://$ip:2379"
done

# 5. Every member healthy.
step verify
until ssh_ "$fip" "ETCDCTL_API=3 etcdctl --endpoints=$joined $tls endpoint health" >/dev/null 2>&1; do sleep 0.5; done
