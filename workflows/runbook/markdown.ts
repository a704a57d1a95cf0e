// Markdown the Web UI shows as the run's current details. Pure, shared with the CLI.
import type { RunbookProgress, StepState } from './definitions.js';

const ICON: Record<StepState['status'], string> = {
  pending: '·', running: '▶', waiting: '⏸', done: '✔', failed: '✘', skipped: '↷',
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

export function stepDuration(s: StepState, now: number): string {
  if (s.startedAt === undefined) return '';
  return formatDuration((s.endedAt ?? now) - s.startedAt);
}

export function renderProgressMarkdown(p: RunbookProgress, workflowId: string): string {
  const lines = [`**${p.runbook}** on cluster \`${p.cluster}\` — phase \`${p.phase}\` (${workflowId})`, '', '| | step | time | detail |', '|---|---|---|---|'];
  for (const s of p.steps) {
    lines.push(`| ${ICON[s.status]} | ${s.title} | ${s.endedAt ? stepDuration(s, s.endedAt) : ''} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`);
  }
  if (p.pendingApproval?.choices) {
    lines.push('', `**Held at \`${p.pendingApproval.step}\`**: ${p.pendingApproval.plan}`,
      `Answer with \`mooring resolve ${workflowId} --choice ${p.pendingApproval.choices.join('|')} --by NAME --comment WHY\`.`);
  } else if (p.pendingApproval) {
    lines.push('', `**Waiting for approval of \`${p.pendingApproval.step}\`**: ${p.pendingApproval.plan}`,
      `Approve with \`mooring approve ${workflowId} --by NAME\` or reject with \`mooring reject ${workflowId} --by NAME --comment WHY\`.`);
  }
  if (p.refusedSignals?.length) {
    lines.push('', '**Decision signals not applied:**');
    for (const r of p.refusedSignals) lines.push(`- \`${r.step || '?'}\` from ${r.by || 'nobody named'}${r.identity ? ` (${r.identity})` : ''}: ${r.reason}`);
  }
  if (p.report) lines.push('', p.report);
  return lines.join('\n');
}
