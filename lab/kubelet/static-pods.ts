// SIMULATED kubelet (lab only): keeps the node's processes in step with the static-pod manifests.
// A new manifest starts its containers; a manifest whose content hash changed has its old
// processes stopped (by pid) before the new ones start, as the kubelet replaces a static pod; a
// removed manifest stops its pod. The running containers are recorded in
// <state-dir>/containers.json (pod, container, id, pid, hash, argv): a restarted kubelet adopts
// the processes whose pod hash and command line still match and stops the rest, and the
// SIMULATED crictl reads the same file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryForImage } from './binaries.js';
import { alive, Container, runsArgv, type ContainerRecord, type ContainerState } from './container.js';
import { readStaticPods, type StaticPod } from './manifests.js';

export interface RunningPod {
  pod: StaticPod;
  containers: { name: string; image: string; state: ContainerState }[];
  /** Why the pod cannot run at all (a program that is not built), shown in its status. */
  error?: string;
}

interface PodEntry { pod: StaticPod; containers: Container[]; error?: string }

export interface StaticPodsOptions {
  nodeName: string;
  manifests: string;
  stateDir: string;
  binaries: string;
  etcdBinaries?: string;
  log: (msg: string) => void;
  /** Called whenever a container starts, stops or crashes. */
  changed: () => void;
}

export const containersFile = (stateDir: string) => join(stateDir, 'containers.json');

export class StaticPods {
  private readonly pods = new Map<string, PodEntry>();
  private adoptable: ContainerRecord[] | undefined;
  private syncing?: Promise<void>;
  private again = false;
  private lastErrors = '';

  constructor(private readonly o: StaticPodsOptions) {
    mkdirSync(join(o.stateDir, 'pods'), { recursive: true });
  }

  running(): RunningPod[] {
    return [...this.pods.values()].map((e) => ({
      pod: e.pod,
      containers: e.containers.map((c, i) => ({ name: c.name, image: e.pod.manifest.spec.containers[i]!.image, state: c.state() })),
      ...(e.error ? { error: e.error } : {}),
    }));
  }

  /** Brings the processes in line with the manifests; concurrent calls coalesce into one more pass. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again);
    })().finally(() => { this.syncing = undefined; });
    return this.syncing;
  }

  private async pass(): Promise<void> {
    const { pods, errors } = readStaticPods(this.o.manifests, this.o.nodeName);
    const shown = errors.join('\n');
    if (shown && shown !== this.lastErrors) this.o.log(`manifests skipped:\n${shown}`);
    this.lastErrors = shown;
    const wanted = new Map(pods.map((p) => [p.fullName, p]));
    if (this.adoptable === undefined) this.adoptable = this.readRecords();

    for (const [name, entry] of this.pods) {
      const next = wanted.get(name);
      if (next && next.hash === entry.pod.hash) continue;
      this.o.log(next ? `${name}: manifest changed (hash ${entry.pod.hash} → ${next.hash}): replacing the pod` : `${name}: manifest removed: stopping the pod`);
      await this.stopPod(entry);
      this.pods.delete(name);
    }
    for (const [name, pod] of wanted) {
      if (!this.pods.has(name)) this.startPod(pod);
    }
    // Processes of a previous kubelet that no current manifest claims: stop them, by pid.
    for (const r of this.adoptable.splice(0)) {
      if (alive(r.pid) && runsArgv(r.pid, r.argv)) {
        this.o.log(`${r.pod}/${r.container}: pid ${r.pid} belongs to no current manifest: stopping it`);
        await new Container(r.pod, r.container, r.hash, r.argv, {}, '/dev/null', this.o.log, () => {}).adoptAndStop(r, 30_000);
      }
    }
    this.writeRecords();
  }

  private startPod(pod: StaticPod): void {
    const entry: PodEntry = { pod, containers: [] };
    this.pods.set(pod.fullName, entry);
    const dir = join(this.o.stateDir, 'pods', pod.fullName);
    mkdirSync(dir, { recursive: true });
    for (const spec of pod.manifest.spec.containers) {
      let argv: string[];
      try {
        const bin = binaryForImage(spec.image, this.o.binaries, this.o.etcdBinaries);
        if (bin.warning) this.o.log(`${pod.fullName}/${spec.name}: ${bin.warning}`);
        argv = [bin.path, ...(spec.command ?? []).slice(1), ...(spec.args ?? [])];
      } catch (e) {
        entry.error = (e as Error).message;
        this.o.log(`${pod.fullName}/${spec.name}: cannot run: ${entry.error}`);
        continue;
      }
      const env: Record<string, string> = {};
      for (const v of spec.env ?? []) {
        if (v.value !== undefined) env[v.name] = v.value;
        else this.o.log(`${pod.fullName}/${spec.name}: env ${v.name} uses valueFrom, which this SIMULATED kubelet does not resolve; left unset`);
      }
      const c = new Container(pod.fullName, spec.name, pod.hash, argv, env, join(dir, `${spec.name}.log`), this.o.log, () => { this.writeRecords(); this.o.changed(); });
      entry.containers.push(c);
      const i = this.adoptable!.findIndex((r) => r.pod === pod.fullName && r.container === spec.name && r.hash === pod.hash && r.argv.join('\0') === argv.join('\0'));
      const r = i >= 0 ? this.adoptable!.splice(i, 1)[0]! : undefined;
      if (r && alive(r.pid) && runsArgv(r.pid, argv)) c.adopt(r);
      else c.start();
    }
  }

  private async stopPod(entry: PodEntry): Promise<void> {
    const grace = (entry.pod.manifest.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all(entry.containers.map((c) => c.stop(grace)));
  }

  /** Stops every pod (the kubelet's --stop-pods-on-exit). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.pods.values()].map((entry) => this.stopPod(entry)));
    this.pods.clear();
    this.writeRecords();
  }

  private readRecords(): ContainerRecord[] {
    try {
      return (JSON.parse(readFileSync(containersFile(this.o.stateDir), 'utf8')) as { containers: ContainerRecord[] }).containers;
    } catch {
      return [];
    }
  }

  private writeRecords(): void {
    const containers = [...this.pods.values()].flatMap((e) => e.containers.map((c) => c.record()).filter((r): r is ContainerRecord => !!r));
    // Records not yet adopted stay listed until the pass that decides about them.
    const file = containersFile(this.o.stateDir);
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ containers: [...containers, ...(this.adoptable ?? [])] }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
