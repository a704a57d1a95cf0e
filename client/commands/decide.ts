import type { Command } from 'commander';
import { connectionFlags, fail, withConnectionOptions, withExamples } from '../cli-shared.js';
import { CliExit } from '../exit-codes.js';

export function registerDecide(program: Command): void {
  for (const verb of ['approve', 'reject'] as const) {
    const cmd = withExamples(withConnectionOptions(program.command(verb)), verb === 'approve'
      ? 'mooring approve ops/prod --by alice --comment "CHG-1234"' : 'mooring reject ops/prod --by alice --comment "wrong member, see INC-77"', 'mooring status ops/prod          what the run waits on')
      .description(verb === 'approve' ? 'Approve the step a run is waiting on; who, when and why are kept in its history' : 'Reject the step a run is waiting on: the run stops safely without doing it')
      .argument('<workflow-id>', 'the run, as `mooring list` shows it')
      .requiredOption('--by <name>', 'who decides (recorded in the run\'s history)')
      .option('--step <id>', 'the step to decide (default: the one pending)');
    if (verb === 'approve') cmd.option('--comment <text>', 'why (recorded)');
    else cmd.requiredOption('--comment <text>', 'why it is rejected (recorded)');
    cmd.action(async (id: string, o: Record<string, string>) => {
      await sendDecision(id, o, { approved: verb === 'approve' }, (d) => `${d.approved ? 'approved' : 'rejected'} "${d.step}" of ${id} by ${d.by} at ${new Date(d.at).toISOString()}`);
    });
  }
  withExamples(withConnectionOptions(program.command('resolve')),
    'mooring resolve ops/prod --choice retry --by alice --comment "PDB web relaxed"',
    'mooring resolve ops/prod --choice skip --by alice --comment "worker-3 is retired next week"',
    'mooring resolve ops/prod --choice stop --by alice')
    .description('Answer a run that holds because a step is blocked or failed (e.g. a drain a PodDisruptionBudget holds up): retry the step, skip the node, or stop the run; who, when and why are kept in its history')
    .argument('<workflow-id>', 'the run, as `mooring list` shows it')
    .requiredOption('--choice <choice>', 'one of the choices the hold offers (mooring status shows them): retry, skip, stop')
    .requiredOption('--by <name>', 'who decides (recorded in the run\'s history)')
    .option('--comment <text>', 'why (recorded; required for skip)')
    .option('--step <id>', 'the hold to answer (default: the one pending)')
    .action(async (id: string, o: Record<string, string>) => {
      await sendDecision(id, o, { approved: o.choice !== 'stop', choice: o.choice! }, (d) => `${d.choice} chosen at "${d.step}" of ${id} by ${d.by} at ${new Date(d.at).toISOString()}`);
    });
}

/** Sends one decision (approval, rejection or a hold's choice) and prints what the run recorded. */
async function sendDecision(id: string, o: Record<string, string>, what: { approved: boolean; choice?: string }, line: (d: Awaited<ReturnType<typeof import('../decide.js').decide>>) => string): Promise<void> {
  const [{ WorkflowUpdateFailedError }, { connectClient }, { decide }] = await Promise.all([import('@temporalio/client'), import('../connect.js'), import('../decide.js')]);
  const mc = await connectClient(connectionFlags(o));
  try {
    const d = await decide(mc.client, id, { ...what, by: o.by!, ...(o.comment ? { comment: o.comment } : {}), ...(o.step ? { step: o.step } : {}) });
    process.stdout.write(`${line(d)}\n`);
  } catch (err) {
    if (err instanceof CliExit) throw err;
    if (err instanceof WorkflowUpdateFailedError) fail(`the run refused the decision: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    fail((err as Error).message);
  } finally {
    await mc.close();
  }
}
