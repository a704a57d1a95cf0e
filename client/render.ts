// Terminal rendering of runbook progress and lists, and the one JSON/YAML renderer behind every
// command's -o json|yaml. Pure functions of their input.
import type { RunbookProgress, StepState } from '../workflows/runbook/definitions.js';
import { stepDuration } from '../workflows/runbook/markdown.js';
import type { ActivityProgress } from './transfers.js';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = paint(1);
export const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const cyan = paint(36);

const MARK: Record<StepState['status'], string> = {
  pending: dim('·'), running: cyan('▶'), waiting: yellow('⏸'), done: green('✔'), failed: red('✘'), skipped: dim('↷'),
};

export function table(headers: string[], rows: string[][]): string {
  const visible = (s: string) => s.replace(/\x1b\[\d+m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c)))).join('  ').trimEnd();
  return [bold(line(headers)), ...rows.map(line)].join('\n');
}

export function renderProgress(p: RunbookProgress, workflowId: string, status: string, now = Date.now()): string {
  const rows = p.steps.map((s) => [MARK[s.status], s.title, s.status, stepDuration(s, now), s.detail ?? '']);
  const out = [`${bold(p.runbook)} on ${bold(p.cluster)}  ${dim(workflowId)}  ${status}  phase ${p.phase}`, '', table(['', 'step', 'status', 'time', 'detail'], rows)];
  if (p.pendingApproval?.choices) {
    out.push('', yellow(`Held at "${p.pendingApproval.step}": ${p.pendingApproval.plan}`));
    out.push(`  mooring resolve ${workflowId} --choice ${p.pendingApproval.choices.join('|')} --by NAME --comment WHY`);
  } else if (p.pendingApproval) {
    out.push('', yellow(`Waiting for approval of "${p.pendingApproval.step}": ${p.pendingApproval.plan}`));
    if (p.pendingApproval.deadline) out.push(yellow(`Stops safely at ${new Date(p.pendingApproval.deadline).toISOString()} if nobody decides.`));
    out.push(`  mooring approve ${workflowId} --by NAME [--comment TEXT]`, `  mooring reject ${workflowId} --by NAME --comment WHY`);
  }
  if (p.decisions.length) {
    out.push('', bold('Decisions'));
    for (const d of p.decisions) out.push(`  ${d.choice ? (d.choice === 'stop' ? red('stop') : green(d.choice)) : d.approved ? green('approved') : red('rejected')} ${d.step} by ${d.by} at ${new Date(d.at).toISOString()}${d.comment ? `: ${d.comment}` : ''}${d.identity ? dim(` (${d.identity})`) : ''}`);
  }
  if (p.report) out.push('', p.report);
  return out.join('\n');
}

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;

/**
 * `value` as JSON or YAML text. YAML is made from the JSON form, so both carry exactly the same
 * fields (undefined dropped, dates as ISO strings). The yaml package loads only when asked for:
 * start-up stays light (client/cli.ts).
 */
export async function renderData(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  const json = JSON.stringify(value, null, 2);
  if (format === 'json') return `${json}\n`;
  const { stringify } = await import('yaml');
  return stringify(json === undefined ? null : JSON.parse(json), { lineWidth: 0 });
}

/** "1.5 GiB" */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** One line per running step: what, bytes done of total (percent), rate, time left. */
export function renderActivities(list: ActivityProgress[]): string {
  if (list.length === 0) return '';
  const lines = list.map((p) => {
    const name = p.what ?? p.activityType;
    const retry = p.attempt > 1 ? dim(` (attempt ${p.attempt})`) : '';
    if (p.bytes === undefined) return `  ${name}: ${p.state.toLowerCase()}${retry}`;
    const pct = p.of ? ` (${Math.floor((p.bytes / p.of) * 100)}%)` : '';
    const rate = p.bytesPerSecond !== undefined ? `, ${humanBytes(p.bytesPerSecond)}/s` : '';
    const left = p.of && p.bytesPerSecond && p.bytesPerSecond > 0 && p.of > p.bytes ? `, ~${Math.ceil((p.of - p.bytes) / p.bytesPerSecond)} s left` : '';
    return `  ${name}: ${humanBytes(p.bytes)}${p.of !== undefined ? ` of ${humanBytes(p.of)}` : ''}${pct}${rate}${left}${retry}`;
  });
  return ['Running steps', ...lines].join('\n');
}
