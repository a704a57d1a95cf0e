// SIMULATED kubelet (lab only): the kubelet's healthz endpoint. `kubeadm init` and `kubeadm join`
// poll http://127.0.0.1:10248/healthz ([kubelet-check]) before they wait for the control plane or
// the TLS bootstrap; this answers it from the node's own loopback (inside the node's network
// namespace), "ok" while the kubelet's sync loop is alive.
import { createServer, type Server } from 'node:http';

export function serveHealthz(port: number, healthy: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const ok = healthy();
    res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(ok ? 'ok' : 'sync loop stalled');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
