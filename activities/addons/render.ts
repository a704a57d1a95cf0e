// The manifests as applied: flannel's with net-conf.json's Network set to the inventory's pod
// network (the one field Mooring changes: flannel allocates each node's pod range from it, and it
// must be the podSubnet kubeadm gave the controller-manager), everything else byte for byte as
// shipped; and what any manifest holds (its objects, namespaces, CRDs, DaemonSets, Deployments)
// read from its own documents. Pure: unit-tested without a cluster.
import { parseAllDocuments, isScalar, type Document } from 'yaml';
import type { ManifestFacts, Workload } from './context.js';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

function documentsOf(text: string, what: string): Document[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new ManifestError(`${what}: not a YAML stream`);
  for (const d of docs) {
    const e = d.errors[0];
    if (e) throw new ManifestError(`${what}: not valid YAML (${e.message.split('\n')[0]})`);
  }
  return docs.filter((d) => d.contents !== null);
}

interface Obj { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; spec?: Record<string, unknown> }

function objectsOf(text: string, what: string): Obj[] {
  return documentsOf(text, what).map((d, i) => {
    const o = d.toJS() as Obj | null;
    if (!o || typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new ManifestError(`${what}: document ${i + 1} is not a Kubernetes object (apiVersion, kind and metadata.name are needed)`);
    }
    return o;
  });
}

const NETWORK = /"Network"\s*:\s*"[^"]*"/g;

/**
 * flannel's manifest with net-conf.json's Network = `podSubnet`. Only that value's characters
 * change; the result is checked by parsing both texts again: every document equal but that field.
 */
export function renderFlannel(shipped: string, podSubnet: string): string {
  const what = 'flannel manifest';
  const docs = documentsOf(shipped, what);
  const cfg = docs.filter((d) => d.get('kind') === 'ConfigMap' && d.getIn(['metadata', 'name']) === 'kube-flannel-cfg');
  if (cfg.length !== 1) throw new ManifestError(`${what}: ${cfg.length} ConfigMaps kube-flannel-cfg, expected 1`);
  const node = cfg[0]!.getIn(['data', 'net-conf.json'], true);
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) throw new ManifestError(`${what}: kube-flannel-cfg has no data.net-conf.json`);
  const [start, end] = node.range;
  const block = shipped.slice(start, end);
  if ((block.match(NETWORK) ?? []).length !== 1) throw new ManifestError(`${what}: net-conf.json must name "Network" exactly once`);
  const rendered = shipped.slice(0, start) + block.replace(NETWORK, `"Network": ${JSON.stringify(podSubnet)}`) + shipped.slice(end);
  checkOnlyNetworkChanged(shipped, rendered, podSubnet);
  return rendered;
}

function netConf(docs: Obj[]): Record<string, unknown> {
  const cfg = docs.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'kube-flannel-cfg') as { data: Record<string, string> } | undefined;
  return JSON.parse(cfg!.data['net-conf.json']!) as Record<string, unknown>;
}

function checkOnlyNetworkChanged(before: string, after: string, podSubnet: string): void {
  const a = objectsOf(before, 'flannel manifest');
  const b = objectsOf(after, 'rendered flannel manifest');
  const confA = netConf(a);
  const confB = netConf(b);
  if (confB.Network !== podSubnet) throw new ManifestError(`rendered flannel manifest: net-conf.json Network is ${String(confB.Network)}, not ${podSubnet}`);
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same({ ...confA, Network: podSubnet }, confB)) throw new ManifestError('rendered flannel manifest: net-conf.json changed beyond Network');
  const strip = (objs: Obj[]) => objs.map((o) => (o.kind === 'ConfigMap' && o.metadata?.name === 'kube-flannel-cfg' ? { ...o, data: { ...(o as { data: object }).data, 'net-conf.json': '' } } : o));
  if (!same(strip(a), strip(b))) throw new ManifestError('rendered flannel manifest: a document changed beyond net-conf.json');
}

/** What a manifest creates, read from its documents; refuses a text that is not a list of Kubernetes objects. */
export function manifestFacts(text: string, what: string): ManifestFacts {
  const objs = objectsOf(text, what);
  if (!objs.length) throw new ManifestError(`${what}: no Kubernetes object in it`);
  const ns = (o: Obj) => (typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : '');
  const workloads: Workload[] = objs.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment').map((o) => ({
    kind: o.kind as Workload['kind'],
    namespace: ns(o) || 'default',
    name: o.metadata!.name as string,
    selector: ((o.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels) ?? {},
  }));
  return {
    objects: objs.map((o) => `${String(o.kind)}/${ns(o)}/${String(o.metadata!.name)}`),
    namespaces: objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata!.name as string),
    crdKinds: objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => (o.spec?.names as { kind?: string } | undefined)?.kind).filter((k): k is string => typeof k === 'string'),
    workloads,
  };
}
