// Worker batches of a Kubernetes hop, from kubernetes.upgrade.workerBatch (a count, or a
// percentage of the workers, rounded down, at least one). Pure.
export function workerBatches(workers: readonly string[], size: number | string): string[][] {
  const n = typeof size === 'number' ? size : Math.max(1, Math.floor((workers.length * Number(size.replace('%', ''))) / 100));
  const out: string[][] = [];
  for (let i = 0; i < workers.length; i += n) out.push(workers.slice(i, i + n));
  return out;
}
