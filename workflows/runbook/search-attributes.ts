// Custom search attributes Mooring registers on the server, so the Web UI lists runs per cluster.
// Never put secrets here: search attributes are stored and indexed in clear.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CLUSTER = defineSearchAttributeKey('MooringCluster', SearchAttributeType.KEYWORD);
export const RUNBOOK = defineSearchAttributeKey('MooringRunbook', SearchAttributeType.KEYWORD);
export const PHASE = defineSearchAttributeKey('MooringPhase', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute NAME=TYPE` and operator registration. */
export const SEARCH_ATTRIBUTE_FLAGS: readonly string[] = [CLUSTER, RUNBOOK, PHASE].map((k) => `${k.name}=Keyword`);
