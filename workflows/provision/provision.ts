// Runbook `provision`: from an inventory to a running cluster. The plan (the cloud phase's, and
// the host steps), then on OpenStack the boot references and the quota check against Nova's
// /limits and Neutron's quotas (refused before anything is created when the plan needs more than
// is left), ONE approval before the first billable create (none when every resource exists), the
// cloud phase as a child run (provisionCloud on OpenStack, provisionProxmox on Proxmox) that on
// OpenStack creates only what that check found missing (a resource deleted since is refused at its
// create; the runbook checks again and asks once more), the host phase as a child run
// (provisionHosts), and a report: addresses, the API endpoint and where the admin kubeconfig was
// written (never its content). Children are started by name, so each phase
// ships and replays on its own; a re-run finds everything and says that nothing changed.
import { ApplicationFailure, executeChild, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Inventory } from '../../config/schema.js';
import type { OpenStackActivities } from '../../activities/cloud/openstack/activities/index.js';
import type { CloudPhaseResult, HostPhaseInput, HostPhaseResult } from '../../activities/host/context.js';
import { planCloud, type CloudPlan } from '../../activities/cloud/openstack/plan/cloud-plan.js';
import { quotaLine, quotaRefusal, type QuotaCheck } from '../../activities/cloud/openstack/plan/quota.js';
import { OPENSTACK_NON_RETRYABLE } from '../../activities/cloud/openstack/plan/failure-types.js';
import { UNAPPROVED_CREATE } from '../../activities/cloud/openstack/plan/approved.js';
import { Runbook, rootCause } from '../runbook/runbook.js';
import { FailureTypes } from '../runbook/definitions.js';
import { CLUSTER, PHASE, RUNBOOK } from '../runbook/search-attributes.js';
import { phaseStepsSignal, type PhaseStep } from './progress.js';
import { SERVER_ERROR } from './cloud.js';
import { hostStepLines, provisionReport } from './report.js';
import { cniRefusal } from '../../activities/addons/catalog.js';

export interface ProvisionInput {
  inventory: Inventory;
  /** The plan, the boot references and the quota; nothing is created. */
  planOnly?: boolean;
  /** How long the approval (and a hold after a server ERROR) waits before stopping safely. */
  approvalTimeoutMs?: number;
}

export interface ProvisionResult {
  cluster: string;
  planOnly: boolean;
  plan: string[];
  quota?: string[];
  /** Cloud resources this run created; empty on a re-run. */
  created: string[];
  /** What the host phase changed; empty on a re-run. */
  changed: string[];
  nothingChanged: boolean;
  hosts?: { name: string; roles: string[]; address: string; publicAddress?: string; machineId: string }[];
  apiEndpoint?: string;
  kubeconfigPath?: string;
  report: string;
}

export const PROVISION_DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;
export const QUOTA_EXCEEDED = 'QuotaExceeded';

const checks = proxyActivities<OpenStackActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: OPENSTACK_NON_RETRYABLE },
});

const CLOUD_WORKFLOW: Record<string, string> = { openstack: 'provisionCloud', proxmox: 'provisionProxmox' };

export async function provision(input: ProvisionInput): Promise<ProvisionResult> {
  const inv = input.inventory;
  const cluster = inv.cluster.name;
  const provider = inv.provider.type;
  const bad = (message: string) => ApplicationFailure.create({ type: FailureTypes.badInput, nonRetryable: true, message });
  const cloudWorkflow = CLOUD_WORKFLOW[provider];
  if (!cloudWorkflow) throw bad(`provider.type is ${provider}: provision creates machines on openstack or proxmox; a static inventory's hosts exist already`);
  // The host phase applies the CNI: a CNI whose manifest neither ships nor is given is refused
  // here, at the plan, before anything is made (runs from before replay as they ran).
  const cniProblem = patched('provision-hosts-addons') ? cniRefusal(inv.kubernetes) : undefined;
  if (cniProblem) throw bad(cniProblem);
  const rb = new Runbook('provision', cluster, [
    { id: 'plan', title: 'Plan: cloud resources and host steps' },
    { id: 'check', title: provider === 'openstack' ? 'Image, flavors, network, key pair; quota (Nova /limits, Neutron quotas)' : 'Cloud references' },
    { id: 'approve', title: 'Approve the first billable create' },
    { id: 'cloud', title: `Cloud phase (${cloudWorkflow}, a child run)` },
    { id: 'hosts', title: 'Host phase (provisionHosts, a child run)' },
  ]);
  // The children's own steps (one per resource, one per host) show here, after their phase.
  let lastOf: Record<string, string> = { cloud: 'cloud', host: 'hosts' };
  setHandler(phaseStepsSignal, (steps: PhaseStep[]) => {
    for (const s of steps) {
      const phase = s.id.startsWith('host:') && !s.id.endsWith(':server') ? 'host' : 'cloud';
      rb.addStep(s.id, s.title, lastOf[phase]);
      lastOf = { ...lastOf, [phase]: s.id };
      rb.update(s.id, s.status, s.detail);
    }
  });
  const info = workflowInfo();
  // From the cluster and this run, not the workflow ID: a replay runs under another ID.
  const childId = (what: string, n = 1) => `ops/${cluster}/${what}-${info.runId}${n > 1 ? `-${n}` : ''}`;
  const childOptions = (phase: string) => ({
    typedSearchAttributes: [{ key: CLUSTER, value: cluster }, { key: RUNBOOK, value: `provision-${phase}` }, { key: PHASE, value: 'starting' }],
    staticSummary: `provision ${phase} phase of ${cluster}`,
  });

  const cloudPlan: CloudPlan | undefined = provider === 'openstack' ? planOrBad(inv, bad) : undefined;
  const planned = await rb.step('plan', async () => {
    const r = await executeChild<(i: { inventory: Inventory; planOnly: boolean }) => Promise<CloudPhaseResult>>(cloudWorkflow, {
      workflowId: childId('cloud-plan'), args: [{ inventory: inv, planOnly: true }], ...childOptions('cloud-plan'),
    });
    return { cloud: r.plan, hosts: hostStepLines(inv) };
  }, (p) => `${p.cloud.at(-1) ?? ''}; ${p.hosts.length} host steps`);
  const plan = [...planned.cloud, '', 'host phase:', ...planned.hosts];

  let quota: QuotaCheck | undefined;
  if (cloudPlan) {
    const target = { ...(cloudPlan.cloud ? { cloud: cloudPlan.cloud } : {}), region: cloudPlan.region };
    quota = await rb.step('check', async () => {
      // An image, flavor, external network or key pair that does not exist is refused here, by name.
      await checks.resolveBootRefs({ target, plan: cloudPlan });
      return checkQuota(target, cloudPlan);
    }, checkDetail);
  } else {
    rb.skip('check', `the quota check is OpenStack's; ${provider} is checked by its cloud phase`);
  }
  const quotaLines = quota?.rows.map(quotaLine);
  const result: ProvisionResult = { cluster, planOnly: input.planOnly === true, plan, ...(quotaLines ? { quota: quotaLines } : {}), created: [], changed: [], nothingChanged: true, report: '' };

  if (input.planOnly) {
    for (const s of ['approve', 'cloud', 'hosts']) rb.skip(s, 'plan mode: nothing is created');
    result.report = provisionReport({ cluster, plan, ...(quotaLines ? { quota: quotaLines } : {}), planOnly: true });
    rb.setReport(result.report);
    rb.finish('planned');
    return result;
  }

  const timeoutMs = input.approvalTimeoutMs ?? PROVISION_DEFAULT_APPROVAL_TIMEOUT_MS;
  if (quota && quota.missing.length === 0) {
    rb.skip('approve', 'nothing to create: every cloud resource exists');
  } else {
    const what = quota ? `${quota.missing.length} cloud resources (${quota.missing.slice(0, 6).join(', ')}${quota.missing.length > 6 ? ', …' : ''})` : `the machines of ${cluster}`;
    await rb.approval('approve', { plan: `Create ${what} in ${provider} and build the cluster on them. ${quotaLines ? `Quota: ${quotaLines.join('; ')}.` : ''}`, timeoutMs });
  }

  // The cloud phase. A server that went to ERROR twice holds here: a person decides whether to
  // try again (the phase deletes it and boots it once more) or to stop (everything stays).
  // The cloud phase creates only what the check found missing (the approved plan, or "nothing to
  // create"): a resource deleted since is refused at its create, and the runbook checks again and
  // asks before it is made (no gate is skipped by a check that went stale).
  const limitCreates = quota !== undefined && cloudPlan !== undefined && patched('provision-approved-creates');
  let cloudResult: CloudPhaseResult | undefined;
  for (let attempt = 1; !cloudResult; attempt++) {
    try {
      const args = { inventory: inv, ...(limitCreates ? { approvedCreates: quota!.missing } : {}) };
      cloudResult = await rb.step('cloud', () => executeChild<(i: { inventory: Inventory; approvedCreates?: string[] }) => Promise<CloudPhaseResult>>(cloudWorkflow, {
        workflowId: childId('cloud', attempt), args: [args], ...childOptions('cloud'),
      }), (r) => `${r.created?.length ?? 0} created, ${r.hosts?.length ?? 0} hosts`);
    } catch (err) {
      const cause = rootCause(err);
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      if (type === 'OpenStackQuotaExceeded' && quota) throw quotaDuringCreate(cause as ApplicationFailure, quota);
      if (type === UNAPPROVED_CREATE && limitCreates) {
        // Check again (what is missing now, and whether the quota still fits), then ask.
        const gate = `approve-missing-${attempt}`;
        const recheck = `recheck-${attempt}`;
        rb.addStep(recheck, 'Something went missing after the check: check again', 'cloud');
        rb.addStep(gate, 'Approve creating what went missing', recheck);
        const target = { ...(cloudPlan!.cloud ? { cloud: cloudPlan!.cloud } : {}), region: cloudPlan!.region };
        quota = await rb.step(recheck, () => checkQuota(target, cloudPlan!), checkDetail);
        await rb.approval(gate, { plan: `${(cause as ApplicationFailure).message}. Now missing: ${quota.missing.join(', ') || 'nothing'}. Approve to create ${quota.missing.length} cloud resources and go on; reject to stop here (what exists stays).`, timeoutMs });
        rb.update('cloud', 'pending', `attempt ${attempt + 1} after ${gate}`);
        continue;
      }
      if (type !== SERVER_ERROR) throw err;
      const gate = `retry-after-server-error-${attempt}`;
      rb.addStep(gate, 'A server went to ERROR twice: try again?', 'cloud');
      await rb.approval(gate, { plan: `${(cause as ApplicationFailure).message}. Approve to delete it and boot it again (once more); reject to stop here, everything made so far stays (\`mooring deprovision\` removes it).`, timeoutMs });
      rb.update('cloud', 'pending', `attempt ${attempt + 1} after ${gate}`);
    }
  }
  const hosts = cloudResult.hosts ?? [];
  if (!hosts.length) throw ApplicationFailure.create({ type: 'CloudPhaseIncomplete', nonRetryable: true, message: `the cloud phase (${cloudWorkflow}) returned no hosts` });
  result.created = cloudResult.created ?? [];
  result.hosts = hosts.map((h) => ({ name: h.name, roles: h.roles, address: h.address, machineId: h.machineId, ...(h.publicAddress ? { publicAddress: h.publicAddress } : {}) }));

  const hostResult = await rb.step('hosts', () => executeChild<(i: HostPhaseInput) => Promise<HostPhaseResult>>('provisionHosts', {
    workflowId: childId('hosts'), args: [{ inventory: inv, hosts }], ...childOptions('hosts'),
  }), (r) => `${r.nodes.filter((n) => n.ready).length}/${r.nodes.length} nodes Ready; ${r.changed.length} changes`);
  result.changed = hostResult.changed;
  result.apiEndpoint = hostResult.apiEndpoint;
  result.kubeconfigPath = hostResult.kubeconfigPath;
  result.nothingChanged = result.created.length === 0 && result.changed.length === 0;
  result.report = provisionReport({ cluster, plan, ...(quotaLines ? { quota: quotaLines } : {}), planOnly: false, cloud: cloudResult, hostPhase: hostResult, nothingChanged: result.nothingChanged });
  rb.setReport(result.report);
  rb.finish(result.nothingChanged ? 'unchanged' : 'completed');
  return result;
}

/** The quota check; refuses (QuotaExceeded) when the plan needs more than is left. */
async function checkQuota(target: { cloud?: string; region: string }, plan: CloudPlan): Promise<QuotaCheck> {
  const q = await checks.checkCloudQuota({ target, plan });
  const refusal = quotaRefusal(q);
  if (refusal) throw ApplicationFailure.create({ type: QUOTA_EXCEEDED, nonRetryable: true, message: refusal });
  return q;
}

const checkDetail = (q: QuotaCheck) => `${q.missing.length} resources to create; ${q.rows.filter((r) => r.needed > 0).map(quotaLine).join('; ') || 'no quota used'}`;

function planOrBad(inv: Inventory, bad: (m: string) => ApplicationFailure): CloudPlan {
  try {
    return planCloud(inv);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

/** The cloud refused a create for quota after the check passed (someone else took it): name it and what the plan needs. */
function quotaDuringCreate(cause: ApplicationFailure, q: QuotaCheck): ApplicationFailure {
  // The activity's message says "the project's <quota> quota is exhausted" (errors.ts).
  const name = /the project's (\w+) quota/.exec(cause.message)?.[1];
  const row = q.rows.find((r) => r.quota === name);
  const needs = row ? ` The plan needs ${quotaLine(row).replace(/^\w+ quota \w+: needs /, '')} at the check` : '';
  return ApplicationFailure.create({
    type: QUOTA_EXCEEDED, nonRetryable: true,
    message: `${cause.message}.${needs}; the project's usage changed since. The run stopped: nothing more is created. Raise the quota or make room, then run again (what exists is kept and found)`,
  });
}
