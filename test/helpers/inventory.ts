// A small valid inventory for workflow tests that do not touch hosts (their activities are fakes).
import { parseInventory } from '../../config/load.js';
import type { Inventory } from '../../config/schema.js';

export function testInventory(cluster: string): Inventory {
  return parseInventory({
    apiVersion: 'mooring/v1',
    cluster: { name: cluster },
    provider: { type: 'static' },
    ssh: { user: 'root', privateKeyPath: '/nonexistent/test-key' },
    loadBalancer: { vip: '10.0.0.100', placement: 'masters', apiPort: 60443 },
    etcd: { version: '3.4.23', topology: 'stacked' },
    masters: [{ name: 'm1', ip: '10.0.0.11' }, { name: 'm2', ip: '10.0.0.12' }, { name: 'm3', ip: '10.0.0.13' }],
    workers: [{ name: 'w1', ip: '10.0.0.21' }],
    kubernetes: { version: '1.28.4', controlPlaneEndpoint: '10.0.0.100:60443', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'calico' },
  }, 'test inventory');
}

/** Three external etcd members e1..e3 (10.0.0.1-3) and one master; `extra` adds top-level sections (e.g. backup). */
export function externalEtcdInventory(cluster: string, extra: Record<string, unknown> = {}): Inventory {
  return parseInventory({
    apiVersion: 'mooring/v1', cluster: { name: cluster }, provider: { type: 'static' },
    ssh: { user: 'root', privateKeyPath: '/nonexistent/key' },
    loadBalancer: { vip: '10.0.0.100', placement: 'masters', apiPort: 60443 },
    etcd: { version: '3.4.23', topology: 'external', members: [{ name: 'e1', ip: '10.0.0.1' }, { name: 'e2', ip: '10.0.0.2' }, { name: 'e3', ip: '10.0.0.3' }] },
    masters: [{ name: 'm1', ip: '10.0.0.11' }],
    kubernetes: { version: '1.28.4', controlPlaneEndpoint: '10.0.0.100:60443', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', cni: 'calico' },
    ...extra,
  }, 'test inventory');
}
