// SIMULATED crictl for a lab node that runs the SIMULATED kubelet (installed as
// /usr/local/sbin/crictl by install.ts, in place of lab/crictl-standin.sh). It answers from the
// kubelet's own record of the processes it runs (<state-dir>/containers.json), so the IDs are the
// containerIDs of the mirror pods and the pids are real:
//   crictl ps [-a] [-q] [-o json|table] [--name REGEX]   the running containers
//   crictl stop ID...                                     SIGTERM the process (SIGKILL after 10 s);
//                                                         the kubelet starts it again with a new ID
// Nothing else of crictl is simulated. Not part of Mooring's production path.
import { readFileSync } from 'node:fs';
import { alive, type ContainerRecord } from './container.js';

const file = process.env.MOORING_KUBELET_STATE ? `${process.env.MOORING_KUBELET_STATE}/containers.json` : '/var/lib/kubelet/containers.json';

function records(): ContainerRecord[] {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { containers: ContainerRecord[] }).containers.filter((r) => alive(r.pid));
  } catch {
    return [];
  }
}

function ps(args: string[]): void {
  let name: RegExp | undefined;
  let quiet = false;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--name') name = new RegExp(args[++i] ?? '');
    else if (a.startsWith('--name=')) name = new RegExp(a.slice(7));
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '-o' || a === '--output') json = args[++i] === 'json';
    else if (a === '--output=json' || a === '-ojson') json = true;
  }
  const list = records().filter((r) => !name || name.test(r.container));
  if (json) {
    const containers = list.map((r) => ({
      id: r.id,
      metadata: { name: r.container, attempt: r.restartCount },
      state: 'CONTAINER_RUNNING',
      createdAt: String(Date.parse(r.startedAt) * 1e6),
      labels: { 'io.kubernetes.container.name': r.container, 'io.kubernetes.pod.name': r.pod, 'io.kubernetes.pod.namespace': 'kube-system' },
    }));
    process.stdout.write(`${JSON.stringify({ containers }, null, 2)}\n`);
  } else if (quiet) process.stdout.write(list.map((r) => `${r.id}\n`).join(''));
  else {
    process.stdout.write('CONTAINER        STATE     NAME                       ATTEMPT   POD\n');
    for (const r of list) process.stdout.write(`${r.id.slice(0, 13)}    Running   ${r.container.padEnd(26)} ${String(r.restartCount).padEnd(9)} ${r.pod}\n`);
  }
}

async function stop(ids: string[]): Promise<number> {
  if (ids.length === 0) {
    process.stderr.write('crictl stop: ID required\n');
    return 1;
  }
  for (const id of ids) {
    const found = records().filter((r) => r.id.startsWith(id));
    if (found.length !== 1) {
      process.stderr.write(`crictl stop: container "${id}" ${found.length ? 'is ambiguous' : 'not found'}\n`);
      return 1;
    }
    const pid = found[0]!.pid;
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      // A signal is delivered asynchronously: report the container stopped only once it is.
      const killDeadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
    }
    process.stdout.write(`${id}\n`);
  }
  return 0;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'ps') ps(rest);
else if (cmd === 'stop') process.exitCode = await stop(rest);
else {
  process.stderr.write('SIMULATED crictl (kubelet stand-in): only ps and stop are simulated\n');
  process.exitCode = 1;
}
