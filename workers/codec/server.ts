// The codec server for the Temporal Web UI and CLI ("remote codec endpoint"): POST /encode and
// /decode (also under /<namespace>/…, the CLI's templating) with {"payloads":[…]} in proto3 JSON
// (metadata values and data in base64), run through the same codec as the worker.
//
// Who may call it: it holds the keys, so it is the one place where ciphertext becomes clear.
// - Bound to loopback by default. Bound elsewhere it refuses to start without a bearer token.
// - With a token, every /encode and /decode needs `Authorization: Bearer <token>` (compared in
//   constant time); CORS preflights carry no credentials and are answered without it.
// - A request carrying an Origin other than the configured UI origins is refused (403) whatever
//   its method: a browser always sends Origin cross-site, so another web page open in the
//   operator's browser cannot use the server, even a "simple" request that skips the preflight.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { CodecError } from './aes-gcm.js';

export const DEFAULT_CODEC_SERVER_PORT = 8888;
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  port?: number;
  /** Browser origins allowed to call, e.g. the Web UI's http://127.0.0.1:8233. */
  uiOrigins: string[];
  /** Required as a bearer token when set; mandatory when `host` is not loopback. */
  token?: string;
  /** Serve HTTPS with this certificate and key (PEM): the Web UI passes its access token only to https. */
  tls?: { cert: Buffer; key: Buffer };
  log?: (line: string) => void;
}

export interface CodecServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `http://127.0.0.1:8233/` → `http://127.0.0.1:8233`; refuses what is not an http(s) origin. */
export function normaliseOrigin(value: string): string {
  let url: URL;
  try { url = new URL(value); } catch { throw new Error(`UI origin ${JSON.stringify(value)} is not a URL: use e.g. http://127.0.0.1:8233`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`UI origin ${value}: use an http:// or https:// origin`);
  return url.origin;
}

interface WirePayload { metadata?: Record<string, string>; data?: string }

class BadRequest extends Error {}

function fromWire(p: unknown, i: number): Payload {
  if (typeof p !== 'object' || p === null) throw new BadRequest(`payloads[${i}] is not an object`);
  const { metadata, data } = p as WirePayload;
  const out: Payload = { metadata: {} };
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new BadRequest(`payloads[${i}].metadata.${k} is not a base64 string`);
    out.metadata![k] = Buffer.from(v, 'base64');
  }
  if (data !== undefined && typeof data !== 'string') throw new BadRequest(`payloads[${i}].data is not a base64 string`);
  out.data = Buffer.from(data ?? '', 'base64');
  return out;
}

function toWire(p: Payload): WirePayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new BadRequest(`request body over ${MAX_BODY_BYTES} bytes`), { status: 413 });
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token?.trim() || undefined;
  if (!isLoopback(host) && !token) {
    throw new Error(`a codec server bound to ${host} (not loopback) decrypts for anyone who reaches it: set MOORING_CODEC_SERVER_TOKEN (or --token-file) so callers need a bearer token, or bind to 127.0.0.1`);
  }
  if (!opts.uiOrigins.length) throw new Error('no UI origin: give the Web UI\'s origin (--ui-origin http://127.0.0.1:8233) so its browser calls are allowed');
  const origins = new Set(opts.uiOrigins.map(normaliseOrigin));
  const expected = token ? digest(`Bearer ${token}`) : undefined;
  const log = opts.log ?? (() => {});

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) { res.writeHead(status).end(); return; }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' }).end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const m = /^(?:\/[^/]+)?\/(encode|decode)$/.exec(path);
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined) {
      if (!origins.has(origin)) {
        log(`refused ${req.method} ${path} from origin ${origin}`);
        return send(res, 403, { message: `origin ${origin} may not use this codec server` });
      }
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (!m) return send(res, 404, { message: 'not found: POST /encode or /decode' });
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      return send(res, 204);
    }
    if (req.method !== 'POST') { res.setHeader('Allow', 'POST, OPTIONS'); return send(res, 405, { message: 'use POST' }); }
    if (expected) {
      const given = digest(req.headers.authorization ?? '');
      if (!timingSafeEqual(given, expected)) {
        log(`refused ${path}: missing or wrong bearer token`);
        res.setHeader('WWW-Authenticate', 'Bearer');
        return send(res, 401, { message: 'a bearer token is required (Authorization: Bearer <token>)' });
      }
    }
    let payloads: Payload[];
    try {
      const body = JSON.parse((await readBody(req)).toString('utf8')) as { payloads?: unknown };
      if (!Array.isArray(body?.payloads)) throw new BadRequest('the body must be {"payloads": [...]}');
      payloads = body.payloads.map(fromWire);
    } catch (err) {
      const status = (err as { status?: number }).status ?? 400;
      return send(res, status, { message: err instanceof BadRequest ? err.message : 'the body is not JSON' });
    }
    try {
      const out = m[1] === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
      return send(res, 200, { payloads: out.map(toWire) });
    } catch (err) {
      if (err instanceof CodecError) return send(res, 400, { message: err.message });
      throw err;
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      log(`error: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { message: 'codec server error' });
      else res.destroy();
    });
  };
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  if (!isLoopback(host) && !opts.tls) log(`warning: bound to ${host} without TLS: the token and the decrypted payloads cross the network in clear; give --tls-cert/--tls-key or put an HTTPS proxy in front`);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_CODEC_SERVER_PORT, host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url, server,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
