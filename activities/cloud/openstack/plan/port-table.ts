// The security groups of a cluster as data: one group per role, each rule saying what may reach
// that role, on which protocol and ports, from which other role (a remote group) or CIDR. Pure:
// the plan shows this table before anything is created, and the activity creates exactly it.
// Ports from kubeadm's "Ports and Protocols", etcd's defaults, keepalived (VRRP is IP protocol
// 112) and each CNI's documentation.
import type { Inventory } from '../../../../config/schema.js';
import type { Role } from './names.js';

export type Protocol = 'tcp' | 'udp' | 'vrrp' | 'ipip';
export type Remote = { role: Role } | { cidr: string };

export interface RuleSpec {
  protocol: Protocol;
  /** Inclusive range; absent for protocols without ports (VRRP, IP-in-IP). */
  ports?: [number, number];
  from: Remote;
  why: string;
}

export interface GroupSpec { role: Role; rules: RuleSpec[] }

const CNI_PORTS: Record<Inventory['kubernetes']['cni'], { protocol: Protocol; ports?: [number, number]; why: string }[]> = {
  calico: [
    { protocol: 'tcp', ports: [179, 179], why: 'Calico BGP' },
    { protocol: 'ipip', why: 'Calico IP-in-IP' },
    { protocol: 'udp', ports: [4789, 4789], why: 'Calico VXLAN' },
    { protocol: 'tcp', ports: [5473, 5473], why: 'Calico Typha' },
  ],
  flannel: [{ protocol: 'udp', ports: [8472, 8472], why: 'flannel VXLAN' }],
  canal: [{ protocol: 'udp', ports: [8472, 8472], why: 'Canal (flannel) VXLAN' }, { protocol: 'tcp', ports: [179, 179], why: 'Canal BGP' }],
  cilium: [
    { protocol: 'udp', ports: [8472, 8472], why: 'Cilium VXLAN' },
    { protocol: 'tcp', ports: [4240, 4240], why: 'Cilium health' },
    { protocol: 'tcp', ports: [4244, 4244], why: 'Hubble' },
  ],
};

export function rolesOf(inv: Inventory): Role[] {
  const roles: Role[] = [];
  if (inv.gateways.length) roles.push('gateway');
  if (inv.etcd.topology === 'external' && inv.etcd.members.length) roles.push('etcd');
  roles.push('master');
  if (inv.workers.length) roles.push('worker');
  return roles;
}

/** The security group rules per role for this inventory (ingress only; Neutron's default egress stays). */
export function portTable(inv: Inventory): GroupSpec[] {
  const roles = rolesOf(inv);
  const has = (r: Role) => roles.includes(r);
  const admin = inv.provider.type === 'openstack' ? inv.provider.openstack.adminCidrs : ['0.0.0.0/0'];
  const table = new Map<Role, RuleSpec[]>(roles.map((r) => [r, []]));
  // A rule already there (same protocol, ports, remote) is not added twice: Neutron refuses duplicates.
  const add = (to: Role, rule: RuleSpec) => {
    if (!has(to) || ('role' in rule.from && !has(rule.from.role))) return;
    const rules = table.get(to)!;
    if (!rules.some((x) => ruleKey(x) === ruleKey(rule))) rules.push(rule);
  };
  const nodes: Role[] = ['master', 'worker'];
  const lb: Role = inv.loadBalancer.placement === 'gateways' && has('gateway') ? 'gateway' : 'master';

  // SSH: through the bastions when the inventory has them (the gateways), else from the admins.
  const bastionIsGateway = inv.ssh.bastion !== undefined && inv.gateways.some((g) => g.ip === inv.ssh.bastion?.host);
  for (const r of roles) {
    if (bastionIsGateway && r !== 'gateway') add(r, { protocol: 'tcp', ports: [22, 22], from: { role: 'gateway' }, why: 'SSH from the bastions' });
    else for (const cidr of admin) add(r, { protocol: 'tcp', ports: [22, 22], from: { cidr }, why: 'SSH from the admins' });
  }
  // The API: clients reach the VIP on the load balancer, which forwards to every master's 6443.
  const api = inv.loadBalancer.apiPort;
  for (const cidr of admin) add(lb, { protocol: 'tcp', ports: [api, api], from: { cidr }, why: 'Kubernetes API through the VIP' });
  for (const r of nodes) add(lb, { protocol: 'tcp', ports: [api, api], from: { role: r }, why: 'Kubernetes API through the VIP from the nodes' });
  add('master', { protocol: 'tcp', ports: [6443, 6443], from: { role: lb }, why: 'kube-apiserver from the load balancer' });
  for (const r of nodes) add('master', { protocol: 'tcp', ports: [6443, 6443], from: { role: r }, why: 'kube-apiserver from the nodes' });
  // keepalived: VRRP advertisements between the holders of the VIP.
  add(lb, { protocol: 'vrrp', from: { role: lb }, why: 'keepalived VRRP between the VIP holders' });
  // Ingress on the gateways, NodePorts behind them.
  if (lb === 'gateway') {
    for (const p of [80, 443]) add('gateway', { protocol: 'tcp', ports: [p, p], from: { cidr: '0.0.0.0/0' }, why: 'ingress through the gateways' });
    for (const r of nodes) add(r, { protocol: 'tcp', ports: [30000, 32767], from: { role: 'gateway' }, why: 'NodePorts from the gateways' });
  }
  // etcd: peers among the members, clients (the apiservers) on 2379.
  if (has('etcd')) {
    add('etcd', { protocol: 'tcp', ports: [2379, 2380], from: { role: 'etcd' }, why: 'etcd peers and clients' });
    add('etcd', { protocol: 'tcp', ports: [2379, 2379], from: { role: 'master' }, why: 'etcd clients: the apiservers' });
  } else {
    add('master', { protocol: 'tcp', ports: [2379, 2380], from: { role: 'master' }, why: 'stacked etcd peers and clients' });
  }
  // kubelet API, controller-manager and scheduler among the control plane.
  for (const r of nodes) add(r, { protocol: 'tcp', ports: [10250, 10250], from: { role: 'master' }, why: 'kubelet API from the control plane' });
  add('master', { protocol: 'tcp', ports: [10257, 10259], from: { role: 'master' }, why: 'controller-manager and scheduler' });
  // The CNI between every node that runs pods.
  for (const c of CNI_PORTS[inv.kubernetes.cni]) for (const to of nodes) for (const from of nodes) add(to, { ...c, from: { role: from } });
  return roles.map((role) => ({ role, rules: table.get(role)! }));
}

/** What makes two rules the same rule for Neutron. */
export function ruleKey(r: Pick<RuleSpec, 'protocol' | 'ports' | 'from'>): string {
  return `${r.protocol}|${r.ports?.join('-') ?? ''}|${'role' in r.from ? `role:${r.from.role}` : `cidr:${r.from.cidr}`}`;
}

/** One line per rule, for the plan and for comparing with what exists. */
export function describeRule(r: RuleSpec): string {
  const ports = r.ports ? (r.ports[0] === r.ports[1] ? `${r.ports[0]}` : `${r.ports[0]}-${r.ports[1]}`) : '';
  const from = 'role' in r.from ? `group ${r.from.role}` : r.from.cidr;
  return `${r.protocol}${ports ? `/${ports}` : ''} from ${from} (${r.why})`;
}
