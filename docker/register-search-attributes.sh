#!/bin/sh
# Mooring's search attributes (workflows/runbook/search-attributes.ts), so the UI lists runs per cluster.
set -eu
for name in MooringCluster MooringRunbook MooringPhase; do
  temporal operator search-attribute create --namespace default --name "$name" --type Keyword || true
done
