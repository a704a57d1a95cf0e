#!/bin/bash
# Baseline for bench/upgrade.ts: one Kubernetes hop as a person would type it from kubeadm's
# upgrade guide, over plain ssh through the bastion: the same commands the runbook sends (package
# = copy the release's file over the installed one; kubeadm upgrade plan + apply on the first
# master, upgrade node on the others; kubelet and kubectl, daemon-reload, restart kubelet, wait for
# the Node Ready on the release; the workers cordoned, drained, upgraded, uncordoned one at a time),
# without the runbook's reads before each act, preflight, approval or report.
# Usage: upgrade-baseline.sh KEY USER BASTION_USER@HOST BASTION_PORT VERSION SOURCE_DIR INSTALL_DIR IGNORE_CHECKS
#          MASTER=IP... -- WORKER=IP...
set -euo pipefail
key="$1"; user="$2"; bastion="$3"; bport="$4"; version="$5"; src="$6"; dest="$7"; ignore="$8"; shift 8
masters=(); workers=(); into=masters
for a in "$@"; do
  if [ "$a" = -- ]; then into=workers; elif [ "$into" = masters ]; then masters+=("$a"); else workers+=("$a"); fi
done
source "$(dirname "$0")/timing.sh"
opts=(-i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
# timing.sh's ssh_ goes straight to the host; every node here is behind the bastion (gw-1).
ssh_() {
  [ -n "${BENCH_TIMES:-}" ] && printf . >> "$BENCH_TIMES.calls"
  ssh "${opts[@]}" -o "ProxyCommand=ssh ${opts[*]} -p $bport -W %h:%p $bastion" "$user@$1" "$2"
}
name_of() { echo "${1%%=*}"; }
ip_of() { echo "${1#*=}"; }
first=$(ip_of "${masters[0]}")
kctl="kubectl --kubeconfig /etc/kubernetes/admin.conf"
flags="--ignore-preflight-errors=$ignore"
pkg() { # HOST PACKAGE...: each file copied beside its place and renamed over it
  local host="$1" cmd="mkdir -p $dest"; shift
  for p in "$@"; do cmd+=" && cp $src/$p $dest/.$p.new && chmod 755 $dest/.$p.new && mv -f $dest/.$p.new $dest/$p"; done
  ssh_ "$host" "$cmd"
}
kubelet_up() { # NAME IP: the new kubelet, then the Node Ready with it
  pkg "$2" kubelet kubectl
  ssh_ "$2" "systemctl daemon-reload && systemctl restart kubelet"
  until [ "$(ssh_ "$first" "$kctl get node $1 -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.conditions[?(@.type==\"Ready\")].status}'")" = "v$version True" ]; do sleep 1; done
}

step apply
pkg "$first" kubeadm
ssh_ "$first" "kubeadm upgrade plan v$version $flags > /var/lib/kubeadm-upgrade-plan.log 2>&1"
ssh_ "$first" "kubeadm upgrade apply v$version --yes $flags > /var/lib/kubeadm-upgrade-apply.log 2>&1"
for m in "${masters[@]:1}"; do
  step "node:$(name_of "$m")"
  pkg "$(ip_of "$m")" kubeadm
  ssh_ "$(ip_of "$m")" "kubeadm upgrade node $flags > /var/lib/kubeadm-upgrade-node.log 2>&1"
done
for m in "${masters[@]}"; do
  step "kubelet:$(name_of "$m")"
  kubelet_up "$(name_of "$m")" "$(ip_of "$m")"
done
for w in "${workers[@]}"; do
  n=$(name_of "$w"); ip=$(ip_of "$w")
  step "worker:$n"
  ssh_ "$first" "$kctl cordon $n && $kctl drain $n --ignore-daemonsets --delete-emptydir-data --timeout=300s"
  pkg "$ip" kubeadm
  ssh_ "$ip" "kubeadm upgrade node $flags > /var/lib/kubeadm-upgrade-node.log 2>&1"
  kubelet_up "$n" "$ip"
  ssh_ "$first" "$kctl uncordon $n"
done
