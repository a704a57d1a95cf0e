// SIMULATED container runtime (lab only): the pods bound to this node that are not static pods and
// whose images the registry knows (registry.ts): flannel's DaemonSet pod (flannel.ts), the
// local-path-provisioner (provisioner.ts, the real binary as a process of the node) and its helper
// pods (helper-pod.ts). Each pass (every 2 s, api-sync.ts): check each new pod's spec strictly,
// run it, report its status when it changed; stop the process of a pod being deleted before the
// kubelet's final delete (bound-pods.ts) and of a pod that is gone. Processes left by a kubelet that
// was killed are stopped by their recorded pid when the next one starts (then started anew).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../api-client.js';
import { alive, Container, runsArgv } from '../container.js';
import { readKubeconfig } from '../kubeconfig.js';
import { checkFlannelPod, installCniConf } from './flannel.js';
import { checkHelperPod, runHelper, type HelperResult } from './helper-pod.js';
import { SpecRefused, type AddonPod } from './pod.js';
import { checkProvisionerPod, localPathBinary, provisionerCommand, refreshToken, writeProvisionerKubeconfig, type ProvisionerPlan } from './provisioner.js';
import { addonKind } from './registry.js';
import { finishedStatus, now, processStatus, refusedStatus, runningStatus } from './status.js';
import { podDir, writeConfigMapVolume } from './volumes.js';

export interface AddonPodsOptions {
  nodeName: string;
  stateDir: string;
  /** The kubelet's kubeconfig: the provisioner's kubeconfig takes its server and CA. */
  kubeconfig: string;
  log: (m: string) => void;
  changed: () => void;
  /** Where scripts/build-local-path-provisioner.sh caches (default ${XDG_CACHE_HOME:-~/.cache}/mooring). */
  cacheRoot?: string;
}

interface Proc { c: Container; plan: ProvisionerPlan; dir: string; startTime: string; renewAt: number; configAt: number }

const CONFIG_REFRESH_MS = 10_000;
const podPath = (p: AddonPod) => `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace)}/pods/${encodeURIComponent(p.metadata.name)}`;

export class AddonPods {
  private readonly procs = new Map<string, Proc>();
  private readonly flannel = new Map<string, { startTime: string; ids: Record<string, string> }>();
  private readonly helpers = new Map<string, HelperResult>();
  private readonly refused = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private readonly errors = new Map<string, string>();

  constructor(private readonly o: AddonPodsOptions) {
    mkdirSync(join(o.stateDir, 'addon-pods'), { recursive: true });
  }

  /** Processes a killed kubelet left behind: stopped by their recorded pid (when the pid still runs that argv). */
  async stopLeftovers(): Promise<void> {
    const root = join(this.o.stateDir, 'addon-pods');
    for (const d of readdirSync(root)) {
      const f = join(root, d, 'process.json');
      if (!existsSync(f)) continue;
      const r = JSON.parse(readFileSync(f, 'utf8')) as { pid?: number; argv?: string[] };
      if (r.pid && r.argv && alive(r.pid) && runsArgv(r.pid, r.argv)) {
        this.o.log(`addon pod ${d}: pid ${r.pid} left by an earlier kubelet: stopping it`);
        await new Container(d, 'leftover', '', r.argv, {}, '/dev/null', this.o.log, () => {}).adoptAndStop({ pod: d, container: 'leftover', hash: '', id: '', pid: r.pid, startedAt: '', argv: r.argv, restartCount: 0 }, 10_000);
      }
      writeFileSync(f, '{}\n');
    }
  }

  async sync(api: ApiClient, nodeIp: string): Promise<void> {
    const list = await api.get<{ items: AddonPod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.o.nodeName}`)}`);
    const present = new Set<string>();
    for (const p of list.items) {
      if (p.metadata.annotations?.['kubernetes.io/config.mirror']) continue;
      const kind = addonKind(p);
      if (!kind) continue;
      const uid = p.metadata.uid;
      present.add(uid);
      if (p.metadata.deletionTimestamp) {
        await this.stopProc(uid, (p.spec.terminationGracePeriodSeconds ?? 30) * 1000);
        continue;
      }
      // One pod's trouble (its ConfigMap not there yet, the apiserver restarting) is logged once and
      // retried on the next pass; it never holds up the other pods or the final deletes after this.
      try {
        let status: unknown;
        try {
          if (this.refused.has(uid)) status = refusedStatus(p, nodeIp, this.refused.get(uid)!);
          else if (kind === 'flannel') status = await this.runFlannel(api, p, nodeIp);
          else if (kind === 'local-path-provisioner') status = await this.runProvisioner(api, p, nodeIp);
          else status = await this.runHelper(api, p, nodeIp);
        } catch (e) {
          if (!(e instanceof SpecRefused)) throw e;
          this.refused.set(uid, e.message);
          this.o.log(`${e.message}: refused (SIMULATED runtime: not run)`);
          status = refusedStatus(p, nodeIp, e.message);
        }
        const text = JSON.stringify(status);
        if (this.reported.get(uid) === text) continue;
        await api.patch(`${podPath(p)}/status`, { status }, 'merge');
        this.reported.set(uid, text);
        this.errors.delete(uid);
      } catch (e) {
        const msg = `pod ${p.metadata.namespace}/${p.metadata.name}: ${(e as Error).message} (tried again next pass)`;
        if (this.errors.get(uid) !== msg) this.o.log(msg);
        this.errors.set(uid, msg);
      }
    }
    for (const uid of [...this.procs.keys()]) if (!present.has(uid)) await this.stopProc(uid, 30_000);
    for (const m of [this.flannel, this.helpers, this.refused, this.reported, this.errors]) for (const uid of m.keys()) if (!present.has(uid)) m.delete(uid);
  }

  private async runFlannel(api: ApiClient, p: AddonPod, nodeIp: string) {
    let done = this.flannel.get(p.metadata.uid);
    if (!done) {
      const plan = checkFlannelPod(p);
      const file = await installCniConf(api, p, plan);
      this.o.log(`pod ${p.metadata.namespace}/${p.metadata.name}: install-cni wrote ${file} from configMap ${plan.configMap}/${plan.key}; Running (SIMULATED: install-cni-plugin copies nothing, no flanneld runs)`);
      const ids = Object.fromEntries([...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => [c.name, `none-${p.metadata.uid.slice(0, 8)}-${c.name}`]));
      done = { startTime: now(), ids };
      this.flannel.set(p.metadata.uid, done);
    }
    return runningStatus(p, nodeIp, done.startTime, done.ids);
  }

  private async runProvisioner(api: ApiClient, p: AddonPod, nodeIp: string) {
    const uid = p.metadata.uid;
    let proc = this.procs.get(uid);
    if (!proc) {
      const plan = checkProvisionerPod(p);
      const c0 = p.spec.containers[0]!;
      const binary = localPathBinary(c0.image, this.o.cacheRoot);
      if (!existsSync(binary)) throw new SpecRefused(`pod ${p.metadata.namespace}/${p.metadata.name}: image ${c0.image}: no ${binary}; build it with scripts/build-local-path-provisioner.sh`);
      const dir = podDir(this.o.stateDir, p);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const [vol] of Object.entries(plan.configVolumes)) await writeConfigMapVolume(api, p, p.spec.volumes!.find((v) => v.name === vol)!, join(dir, 'volumes', vol));
      const expiry = await refreshToken(api, p, plan.serviceAccount, dir);
      writeProvisionerKubeconfig(readKubeconfig(this.o.kubeconfig), dir);
      const { argv, env } = provisionerCommand(plan, binary, dir);
      const record = () => writeFileSync(join(dir, 'process.json'), `${JSON.stringify(c.record() ?? {})}\n`);
      const c = new Container(`${p.metadata.namespace}_${p.metadata.name}`, c0.name, uid, argv, env, join(dir, `${c0.name}.log`), this.o.log, () => { record(); this.o.changed(); });
      proc = { c, plan, dir, startTime: now(), renewAt: Date.now() + 0.8 * (expiry - Date.now()), configAt: Date.now() };
      this.procs.set(uid, proc);
      c.start();
    }
    if (Date.now() > proc.renewAt) {
      const expiry = await refreshToken(api, p, proc.plan.serviceAccount, proc.dir);
      proc.renewAt = Date.now() + 0.8 * (expiry - Date.now());
    }
    // The kubelet refreshes configMap volumes; the provisioner reloads its config file when it changes.
    if (Date.now() - proc.configAt > CONFIG_REFRESH_MS) {
      proc.configAt = Date.now();
      for (const vol of Object.keys(proc.plan.configVolumes)) await writeConfigMapVolume(api, p, p.spec.volumes!.find((v) => v.name === vol)!, join(proc.dir, 'volumes', vol));
    }
    return processStatus(p, nodeIp, proc.startTime, proc.c.state());
  }

  private async runHelper(api: ApiClient, p: AddonPod, nodeIp: string) {
    const uid = p.metadata.uid;
    let r = this.helpers.get(uid);
    const dir = podDir(this.o.stateDir, p);
    const resultFile = join(dir, 'result.json');
    if (!r && existsSync(resultFile)) r = JSON.parse(readFileSync(resultFile, 'utf8')) as HelperResult;
    if (!r) {
      const plan = checkHelperPod(p);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      r = await runHelper(api, p, plan, dir);
      writeFileSync(resultFile, `${JSON.stringify(r)}\n`);
      this.o.log(`pod ${p.metadata.namespace}/${p.metadata.name}: /bin/sh ${plan.scriptKey} ${plan.args.join(' ')} exited ${r.exitCode} (VOL_DIR ${plan.env.VOL_DIR})`);
    }
    this.helpers.set(uid, r);
    return finishedStatus(p, nodeIp, r);
  }

  private async stopProc(uid: string, graceMs: number): Promise<void> {
    const proc = this.procs.get(uid);
    if (!proc) return;
    this.procs.delete(uid);
    await proc.c.stop(graceMs);
  }

  /** Stops every process this runtime started (the kubelet stand-in stopping), by pid. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((uid) => this.stopProc(uid, 10_000)));
  }
}
