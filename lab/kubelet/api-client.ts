// SIMULATED kubelet (lab only): a minimal Kubernetes API client over node:https with the node's
// client certificate (or a bootstrap token), the CA from the kubeconfig, and JSON bodies. No
// dependency: the kubelet needs a handful of verbs on five resources.
import { Agent, request } from 'node:https';
import type { Credentials } from './kubeconfig.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly method: string, readonly path: string, body: string) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export type PatchType = 'merge' | 'strategic';

export class ApiClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(private readonly creds: Credentials, private readonly timeoutMs = 10_000) {
    this.base = new URL(creds.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: 4, ca: creds.ca, ...(creds.cert ? { cert: creds.cert } : {}), ...(creds.key ? { key: creds.key } : {}) });
  }

  close(): void {
    this.agent.destroy();
  }

  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request({
        agent: this.agent,
        protocol: 'https:',
        hostname: this.base.hostname,
        port: this.base.port || 443,
        method,
        path,
        timeout: this.timeoutMs,
        headers: {
          accept: 'application/json',
          'user-agent': 'kubelet/mooring-simulated',
          ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
          ...(this.creds.token ? { authorization: `Bearer ${this.creds.token}` } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) return reject(new ApiError(res.statusCode ?? 0, method, path, text));
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch (e) {
            reject(new Error(`${method} ${path}: not JSON: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  get<T>(path: string): Promise<T> { return this.call<T>('GET', path); }
  post<T>(path: string, body: unknown): Promise<T> { return this.call<T>('POST', path, body); }
  put<T>(path: string, body: unknown): Promise<T> { return this.call<T>('PUT', path, body); }
  delete<T>(path: string, body?: unknown): Promise<T> { return this.call<T>('DELETE', path, body); }
  patch<T>(path: string, body: unknown, type: PatchType): Promise<T> {
    return this.call<T>('PATCH', path, body, type === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json');
  }
}

export const isStatus = (e: unknown, status: number) => e instanceof ApiError && e.status === status;
