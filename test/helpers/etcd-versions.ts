// The etcd minors the backup and recovery tests run on, each on a lab subnet of its own so two
// runs never share an address. MOORING_TEST_ETCD=3.6 (or 3.4, comma-separated) runs only those.
import { join } from 'node:path';
import { resolveEtcd } from '../../lab/etcd-versions.js';

export interface EtcdUnderTest {
  /** What the Lab is asked for: 3.4 (Debian's package) or 3.6 (the pinned build). */
  etcd: string;
  subnet: string;
  /** Where that release's etcd and etcdctl are on this machine (for etcd the test runs itself). */
  bin(tool: 'etcd' | 'etcdctl' | 'etcdutl'): string;
}

export function etcdVersionsUnderTest(subnets: Record<'3.4' | '3.6', string>): EtcdUnderTest[] {
  const only = process.env.MOORING_TEST_ETCD?.split(',').map((v) => v.trim()).filter(Boolean);
  return (Object.entries(subnets) as [string, string][])
    .filter(([etcd]) => !only?.length || only.includes(etcd))
    .map(([etcd, subnet]) => ({
      etcd, subnet,
      bin: (tool) => { const dir = resolveEtcd(etcd).binDir; return dir ? join(dir, tool) : tool; },
    }));
}
