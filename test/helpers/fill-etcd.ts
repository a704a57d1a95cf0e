// Fills a lab etcd with random data until its database reaches a size: what bench:backup and the
// large-database e2e test stand on. Values are written from the member's own host over ssh
// (etcdctl reads each value from stdin), several writers at once.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from '../../lab/lab.js';
import { clientEndpoint, hostEtcdctl, type LabMember } from '../../lab/etcd-cluster.js';
import { parseEndpointStatus } from '../../activities/etcd-recovery/etcdctl.js';

const MIB = 1024 * 1024;

/** The member's database size in bytes (`endpoint status`). */
export async function etcdDbSize(lab: Lab, m: LabMember): Promise<number> {
  return parseEndpointStatus(await hostEtcdctl(lab.etcdSettings, m, [clientEndpoint(lab.etcdSettings, m)], ['endpoint', 'status', '-w', 'json'], 10))[0]!.dbSize;
}

/**
 * Writes 1 MiB values (random, so nothing compresses) until the database is at least `mb` MiB;
 * returns its size. `writers` loops run at once on the host, 32 values per loop and round.
 * Keys live under /bench/fill/<mb>/, so a second fill to a larger size adds to the first.
 */
export async function fillEtcd(lab: Lab, m: LabMember, mb: number, opts: { writers?: number; log?: (line: string) => void } = {}): Promise<number> {
  const writers = opts.writers ?? 2;
  const ctl = `ETCDCTL_API=3 etcdctl --endpoints=https://${m.ip}:2379 --cacert=/etc/etcd/ssl/ca.crt --cert=/etc/etcd/ssl/client.crt --key=/etc/etcd/ssl/client.key --command-timeout=30s`;
  let size = await etcdDbSize(lab, m);
  for (let round = 0; size < mb * MIB; round++) {
    // 3/4 MiB of random bytes is 1 MiB of base64: under etcd's 1.5 MiB request limit. A put that
    // times out on a loaded machine ("etcdserver: request timed out") is tried again (same key).
    const loops = Array.from({ length: writers }, (_, w) =>
      `( for i in $(seq 1 32); do v=$(head -c 786432 /dev/urandom | base64 -w0); for t in 1 2 3; do printf %s "$v" | ${ctl} put /bench/fill/${mb}/${round}/${w}/$i >/dev/null && break; [ $t = 3 ] && exit 1; sleep 2; done; done ) &`);
    await labSsh(lab, m.ip, `${loops.join(' ')} fail=0; for j in $(jobs -p); do wait "$j" || fail=1; done; exit $fail`);
    size = await etcdDbSize(lab, m);
    opts.log?.(`etcd database ${(size / MIB).toFixed(0)} MiB of ${mb} MiB`);
  }
  return size;
}

/** Runs `command` on a lab node as root over the lab's ssh; rejects with its stderr on a non-zero exit. */
export function labSsh(lab: Lab, ip: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', [...labSshArgs(lab), `root@${ip}`, command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${ip}: exit ${code}: ${err}`))));
  });
}

export function labSshArgs(lab: Lab): string[] {
  return ['-i', join(lab.dir, 'id_ed25519'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', String(lab.sshPort)];
}
