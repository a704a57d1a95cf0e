#!/bin/sh
# The namespace Mooring runs in and Mooring's search attributes (workflows/runbook/search-attributes.ts:
# the Web UI lists runs per cluster, runbook and phase). temporalio/server creates no namespace by
# itself (auto-setup did). Run by compose's temporal-namespace service (admin-tools image) and by the
# production-stack test (the Temporal CLI of .tools/bin). Safe to run again: what exists is kept.
#
# Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE (default "default"),
# TEMPORAL_RETENTION (default 30d: the audit trail of what was done to a cluster).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS to the Temporal frontend (host:port)}"
ns=${TEMPORAL_NAMESPACE:-default}

# The server answers health before its namespace registry is loaded: retry for up to 2 minutes.
i=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -lt 60 ] || { echo "setup-namespace: Temporal at $TEMPORAL_ADDRESS is not healthy after 2 minutes" >&2; exit 1; }
  sleep 2
done
if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$ns" >/dev/null 2>&1; then
  echo "setup-namespace: namespace $ns exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$ns" --retention "${TEMPORAL_RETENTION:-30d}"
  echo "setup-namespace: namespace $ns created"
fi
# A namespace just created reaches every frontend's registry within seconds ("Namespace default
# is not found" meanwhile): retry for up to a minute.
i=0
until existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$ns" 2>&1); do
  i=$((i + 1))
  [ $i -lt 30 ] || { echo "setup-namespace: cannot list search attributes of $ns: $existing" >&2; exit 1; }
  sleep 2
done
for name in MooringCluster MooringRunbook MooringPhase; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "setup-namespace: search attribute $name exists"
  else
    # A namespace just created can take a moment to accept search attributes: retry briefly.
    i=0
    until temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$ns" --name "$name" --type Keyword; do
      i=$((i + 1))
      [ $i -lt 15 ] || { echo "setup-namespace: could not register $name" >&2; exit 1; }
      sleep 2
    done
  fi
done
