// Applying a manifest on the first master with the real kubectl and the admin kubeconfig, the text
// on stdin (no temp file left on the host): `kubectl diff` first, so a re-run that finds the
// cluster as the manifest says changes nothing and says so; `kubectl apply` only when it differs.
// Server-side apply (field manager "mooring") for both: the diff is the server's dry run of the
// very apply that follows, and large manifests (calico's CRDs) do not hit the size limit of the
// last-applied annotation that client-side apply writes.
import { ApplicationFailure } from '@temporalio/activity';
import type { ExecResult, SshSession } from '../ssh/session.js';
import { ADMIN_KUBECONFIG } from '../kubeadm/init.js';
import type { ManifestFacts } from './context.js';

const SERVER_SIDE = '--server-side --force-conflicts --field-manager=mooring';
export const KUBECTL_DIFF = `kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=60s diff ${SERVER_SIDE} -f -`;
export const KUBECTL_APPLY = `kubectl --kubeconfig ${ADMIN_KUBECONFIG} --request-timeout=60s apply ${SERVER_SIDE} -f -`;

export type DiffVerdict = { kind: 'unchanged' } | { kind: 'differs'; objects: string[] };

/** The objects a diff's output names (kubectl diff writes one file per object: group.version.Kind.namespace.name). */
function differingObjects(stdout: string): string[] {
  const names = new Set<string>();
  for (const m of stdout.matchAll(/^\+\+\+ \S*\/MERGED-\d+\/(\S+)/gm)) names.add(m[1]!);
  return [...names];
}

const UNREACHABLE = [
  /Unable to connect to the server/i, /The connection to the server \S+ was refused/, /connection refused/i, /connection reset/i, /no route to host/i, /i\/o timeout/i,
  /TLS handshake timeout/i, /context deadline exceeded/i, /the server is currently unable to handle the request/i,
  /ServiceUnavailable/, /etcdserver: (leader changed|request timed out)/, /": EOF$/m, /connection lost/, /Client\.Timeout exceeded/, /TooManyRequests/,
];
const INVALID = [
  /error validating/i, /error parsing/i, /error converting YAML/i, /is invalid/i, /unable to decode/i, /strict decoding error/i,
  /unknown field/i, /BadRequest/, /json: cannot unmarshal/i, /Object 'Kind' is missing/i,
];

/** The last lines of stderr, enough to say what went wrong without flooding the history. */
const tail = (s: string) => s.trim().split('\n').slice(-6).join('\n').slice(-1500);

/**
 * What a failed kubectl run means: kubectl missing or the API unreachable are worth retrying (a
 * package still installing, the VIP moving, an apiserver restarting); a manifest the API refuses
 * is bad input, named by addon; anything else is retried with its stderr.
 */
export function kubectlFailure(title: string, verb: 'diff' | 'apply', r: ExecResult): ApplicationFailure {
  const err = tail(r.stderr || r.stdout);
  if (r.code === 127 || /kubectl: (command )?not found/.test(err)) return ApplicationFailure.retryable(`${title}: kubectl is not installed on the first master (exit ${r.code}); the prerequisites install it`, 'KubectlMissing');
  if (UNREACHABLE.some((p) => p.test(err))) return ApplicationFailure.retryable(`${title}: kubectl ${verb} could not reach the API through ${ADMIN_KUBECONFIG}'s server: ${err}`, 'ApiUnreachable');
  if (INVALID.some((p) => p.test(err))) return ApplicationFailure.nonRetryable(`${title}: the API refused the manifest (kubectl ${verb}, exit ${r.code}): ${err}`, 'InvalidInput');
  return ApplicationFailure.retryable(`${title}: kubectl ${verb} failed (exit ${r.code}): ${err}`, 'KubectlFailed');
}

/**
 * The verdict of `kubectl diff` (0 = nothing differs, 1 = something does, >1 = an error). On a
 * fresh cluster the server's dry run refuses objects in a namespace, or of a CRD kind, that the
 * manifest itself creates ("namespaces X not found", "no matches for kind X"): that is a
 * difference (the apply creates them in order), not an error.
 */
export function diffVerdict(title: string, facts: ManifestFacts, r: ExecResult): DiffVerdict {
  if (r.code === 0) return { kind: 'unchanged' };
  if (r.code === 1) return { kind: 'differs', objects: differingObjects(r.stdout) };
  const missingNs = [...r.stderr.matchAll(/namespaces? "([^"]+)" not found/g)].map((m) => m[1]!);
  const missingKinds = [...r.stderr.matchAll(/no matches for kind "([^"]+)"/g)].map((m) => m[1]!);
  const absentOwn = (missingNs.length || missingKinds.length)
    && missingNs.every((n) => facts.namespaces.includes(n)) && missingKinds.every((k) => facts.crdKinds.includes(k));
  if (absentOwn) return { kind: 'differs', objects: [...missingNs.map((n) => `namespace ${n} (new)`), ...missingKinds.map((k) => `kind ${k} (new)`)] };
  throw kubectlFailure(title, 'diff', r);
}

/** Diff, then apply when it differs; returns what changed (empty when the cluster had it already). */
export async function applyManifest(s: SshSession, title: string, text: string, facts: ManifestFacts, signal: AbortSignal): Promise<string[]> {
  const verdict = diffVerdict(title, facts, await s.exec(KUBECTL_DIFF, { stdin: text, timeoutMs: 120_000, signal }));
  if (verdict.kind === 'unchanged') return [];
  const r = await s.exec(KUBECTL_APPLY, { stdin: text, timeoutMs: 300_000, signal });
  if (r.code !== 0) throw kubectlFailure(title, 'apply', r);
  const shown = verdict.objects.slice(0, 5).join(', ');
  return [`${title} applied (${facts.objects.length} objects${shown ? `; differed: ${shown}${verdict.objects.length > 5 ? ', …' : ''}` : ''})`];
}
