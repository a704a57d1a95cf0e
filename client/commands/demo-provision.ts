// `mooring demo-provision` (npm start): seed 001's cluster provisioned from nothing on the lab.
// The SIMULATED OpenStack fake runs in this process with real netns lab nodes behind its servers
// (lab/cloud-nodes), the Temporal dev server and a worker beside it; `provision` runs with its
// approval given by this command as "mooring-demo", then the report, the Web UI link and
// `kubectl get nodes` through the VIP are printed. Ctrl-C (or --exit) deprovisions the cluster
// and stops everything; `--down` removes a lab left behind by a killed run.
import type { Command } from 'commander';
import { join } from 'node:path';
import { CliExit } from '../exit-codes.js';
import { fail, withExamples } from '../cli-shared.js';

interface Options { dir?: string; tag: string; lan: string; loopback: string; port: string; uiPort: string; exit?: boolean; down?: boolean }

const TASK_QUEUE = 'mooring-demo-provision';
const BY = 'mooring-demo';

export function registerDemoProvision(program: Command): void {
  withExamples(program.command('demo-provision'), 'mooring demo-provision', 'mooring demo-provision --exit      # provision, print, deprovision, stop', 'mooring demo-provision --down      # remove a lab a killed run left')
    .description('npm start: provision seed 001\'s cluster (2 gateways, 3 external etcd, 3 masters, 1 worker) behind the SIMULATED OpenStack fake on real lab nodes, with the Temporal dev server (Web UI) and a worker; print kubectl get nodes through the VIP')
    .option('--dir <dir>', 'lab directory (default .lab-openstack)')
    .option('--tag <tag>', 'netns tag of the lab (namespaces mnet-<tag>-<host>)', 'os')
    .option('--lan <n>', 'the lab LAN is 10.77.<n>.0/24', '64')
    .option('--loopback <a.b.c>', 'loopback /24 of the floating IPs (127.60.0-127.64.0 or 127.80.0-127.89.0; 127.64.0, the default, is used by no test)', '127.64.0')
    .option('--port <port>', 'Temporal frontend port', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--exit', 'deprovision and stop right after printing (default when not on a terminal)')
    .option('--down', 'only remove the lab nodes and LAN of a run that was killed')
    .action(async (o: Options) => {
      const [{ PROJECT_ROOT, findTool }, { ensureKey }, { MachineLab }, { startOpenStackLab }, { labInventoryFromSeed }, { pinnedKubernetes }, { parseInventory }, { createMooringWorker }, { installRuntime }, { portOpen, startDevServer }, { connectClient, runUrl }, { startRunbook }, { approveGates }, { follow }, { stringify }, fs] = await Promise.all([
        import('../tools.js'), import('../../lab/sshd.js'), import('../../lab/netns/machines.js'), import('../../lab/cloud-nodes/openstack.js'), import('../../lab/cloud-nodes/lab-inventory.js'),
        import('../../lab/kubernetes-versions.js'), import('../../config/load.js'), import('../../workers/worker.js'), import('../../workers/runtime.js'), import('../devserver.js'),
        import('../connect.js'), import('../start.js'), import('./auto-approve.js'), import('../watch.js'), import('yaml'), import('node:fs'),
      ]);
      const say = (m: string) => process.stdout.write(`${m}\n`);
      const dir = o.dir ?? join(PROJECT_ROOT, '.lab-openstack');
      const layout = { tag: o.tag, lan: Number(o.lan), loopback: o.loopback };
      if (o.down) {
        await new MachineLab({ dir: join(dir, 'lab'), layout }).down();
        say(`lab nodes and LAN of ${dir} removed`);
        return;
      }
      installRuntime({ logLevel: 'WARN' });
      const started = Date.now();
      const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
      const release = pinnedKubernetes()[0];
      if (!release) fail('no Kubernetes release is built: run `npm run setup`');
      say(`1/5 SIMULATED OpenStack fake on ${o.loopback}.1 with real lab nodes behind its servers (LAN 10.77.${o.lan}.0/24, floating IPs ${o.loopback}.x)`);
      const cloud = await startOpenStackLab({
        dir: join(dir, 'lab'), layout,
        fake: { host: `${o.loopback}.1`, port: 0, images: [{ id: '6f3c8d2e-0b1a-4c5d-9e8f-7a6b5c4d3e2f', name: 'ubuntu-20.04' }], quotas: { compute: { instances: 20, cores: 80, ram: 200_000 } } },
      });
      const address = `127.0.0.1:${o.port}`;
      process.env.MOORING_UI_URL ??= `http://127.0.0.1:${o.uiPort}`;
      let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
      let stopWorker: (() => Promise<void>) | undefined;
      let mc: Awaited<ReturnType<typeof connectClient>> | undefined;
      try {
        if (await portOpen('127.0.0.1', Number(o.port))) say(`2/5 Temporal: using the server already on ${address}`);
        else {
          server = await startDevServer({ port: Number(o.port), uiPort: Number(o.uiPort), dbFile: join(dir, 'temporal.db'), logFile: join(dir, 'temporal.log') });
          say(`2/5 Temporal: dev server on ${address}, Web UI ${server.uiUrl}`);
        }
        // The worker's environment as a production worker's: OpenStack credentials (OS_*), its state directory.
        const s = cloud.fake.state;
        Object.assign(process.env, {
          OS_AUTH_URL: cloud.fake.authUrl, OS_USERNAME: s.user.name, OS_PASSWORD: s.user.password, OS_PROJECT_NAME: s.project.name,
          OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: s.region, MOORING_STATE_DIR: join(dir, 'state'),
        });
        const seedFile = join(dir, 'host-key-seed');
        if (!fs.existsSync(seedFile)) fs.writeFileSync(seedFile, (await import('node:crypto')).randomBytes(32).toString('base64'), { mode: 0o600 });
        const publicKey = await ensureKey(join(dir, 'id_ed25519'), 'mooring-demo-operator');
        const inventory = labInventoryFromSeed(join(PROJECT_ROOT, 'config', 'examples', 'seed-001-openstack-external-etcd.yaml'), {
          layout, privateKeyPath: join(dir, 'id_ed25519'), publicKey, kubernetesVersion: release, hostKeySeed: { file: seedFile },
        });
        const inv = parseInventory(inventory, 'seed 001 on the lab');
        const inventoryFile = join(dir, 'paas-challenge.yaml');
        fs.writeFileSync(inventoryFile, `# SIMULATED: seed 001 adapted to the lab behind the OpenStack fake (mooring demo-provision)\n${stringify(inventory)}`);
        const { worker, connection } = await createMooringWorker({ address, taskQueue: TASK_QUEUE });
        const running = worker.run();
        stopWorker = async () => { worker.shutdown(); await running.catch(() => undefined); await connection.close(); };
        say(`3/5 worker: polling task queue "${TASK_QUEUE}"`);
        mc = await connectClient({ address });
        const client = mc.client;
        const runbook = async (name: 'provision' | 'deprovision') => {
          const h = await startRunbook(client, (await import('../runbooks.js')).findRunbook(name), inv, { taskQueue: TASK_QUEUE });
          say(`    ${name}: ${h.workflowId}\n    Web UI: ${runUrl(mc!.namespace, h.workflowId, h.firstExecutionRunId)}`);
          const stop = new AbortController();
          const approving = approveGates(client, h.workflowId, BY, stop.signal, { comment: 'approved by `mooring demo-provision` (npm start)' });
          const end = await follow(client, h.workflowId, { runId: h.firstExecutionRunId, ...(process.stdout.isTTY ? {} : { print: () => {} }) }).finally(() => stop.abort());
          await approving.catch(() => undefined);
          if (end.progress?.report) say(`\n${end.progress.report}\n`);
          if (end.status !== 'COMPLETED') fail(`${name} ended ${end.status}: ${end.failure?.message ?? ''} (${runUrl(mc!.namespace, h.workflowId, end.runId)})`);
          return end;
        };
        say(`4/5 provision seed 001's topology (${inventoryFile}; the approval given as ${BY})`);
        await runbook('provision');
        const kubeconfig = join(dir, 'state', 'clusters', inv.cluster.name, 'admin.conf');
        const nodes = await cloud.lab.execIn('lan', [findTool('kubectl', 'MOORING_KUBECTL'), '--kubeconfig', kubeconfig, '--request-timeout=10s', 'get', 'nodes', '-o', 'wide']);
        say(`5/5 kubectl get nodes through the VIP ${inv.loadBalancer.vip} (from the lab's LAN, kubeconfig ${kubeconfig}), ${elapsed()} after start:\n${nodes}`);
        say(`Web UI: ${process.env.MOORING_UI_URL}/namespaces/${mc.namespace}/workflows`);
        const stay = !o.exit && process.stdout.isTTY && !process.env.CI;
        if (stay) {
          say(`The cluster, the fake and the worker stay up. Ctrl-C tears it down: mooring deprovision (approved as ${BY}), then the fake, the lab nodes, the worker${server ? ' and the server' : ''} stop.\nIf this process is killed instead: mooring demo-provision --down${o.tag !== 'os' ? ` --tag ${o.tag} --lan ${o.lan} --loopback ${o.loopback}` : ''}`);
          await new Promise<void>((r) => { process.once('SIGINT', () => r()); process.once('SIGTERM', () => r()); });
        } else say('Not on a terminal (or --exit): tearing down now; on a terminal it stays up until Ctrl-C.');
        say('tear down: deprovision');
        await runbook('deprovision');
        say(`torn down ${elapsed()} after start`);
      } catch (err) {
        if (err instanceof CliExit) throw err;
        fail((err as Error).message);
      } finally {
        await stopWorker?.();
        await mc?.close();
        await server?.stop();
        await cloud.close();
      }
    });
}
