// SIMULATED: IPv4 address management shared by the cloud fakes (Neutron subnets, ports and floating
// IPs; Proxmox guests on DHCP). Real Neutron hands out addresses from the allocation pool and
// refuses one already taken; Mooring's VIP logic depends on both, so the fake does the same.

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr { base: number; prefix: number; size: number }

/** Parses "10.0.0.0/24"; undefined when it is not an IPv4 CIDR. Host bits must be zero, as Neutron requires for a subnet. */
export function parseCidr(cidr: string, { strict = true } = {}): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIPv4(m[1] as string)) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const ip = ipToInt(m[1] as string);
  const base = ip - (ip % size);
  if (strict && base !== ip) return undefined;
  return { base, prefix, size };
}

export function inCidr(ip: string, cidr: Cidr): boolean {
  const n = ipToInt(ip);
  return n >= cidr.base && n < cidr.base + cidr.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export interface Pool { start: string; end: string }

/** Neutron's defaults: gateway is the first host, the pool is every other host but the broadcast. */
export function defaultGateway(c: Cidr): string {
  return intToIp(c.base + 1);
}

export function defaultPools(c: Cidr, gateway: string | null): Pool[] {
  const first = c.base + 1;
  const last = c.base + c.size - 2;
  if (last < first) return [];
  const gw = gateway ? ipToInt(gateway) : -1;
  const pools: Pool[] = [];
  if (gw > first) pools.push({ start: intToIp(first), end: intToIp(Math.min(gw - 1, last)) });
  if (gw < last) pools.push({ start: intToIp(Math.max(gw + 1, first)), end: intToIp(last) });
  return pools;
}

/** The lowest free address of the pools, as Neutron's default IPAM picks it. */
export function allocate(pools: Pool[], used: Set<string>): string | undefined {
  for (const p of pools) {
    for (let n = ipToInt(p.start); n <= ipToInt(p.end); n++) {
      const ip = intToIp(n);
      if (!used.has(ip)) return ip;
    }
  }
  return undefined;
}
