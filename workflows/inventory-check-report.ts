// The table `inventory-check` reports, shown by `mooring status` and in the Web UI. Pure.
import type { HostFacts } from '../activities/index.js';

export function renderFactsTable(facts: HostFacts[]): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const up = (s: number) => (s >= 86400 ? `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`);
  const rows = facts.map((f) => `| ${f.name} | ${f.ip} | ${f.os} | ${f.kernel} | ${up(f.uptimeSeconds)} | ${gib(f.disk.availBytes)} free of ${gib(f.disk.sizeBytes)} (${f.disk.usedPercent}% used) | ${f.busyPorts.length ? `**busy: ${f.busyPorts.join(', ')}**` : 'all free'} |`);
  return ['| host | address | OS | kernel | uptime | disk / | expected ports |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}
