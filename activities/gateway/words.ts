// Both haproxy.cfg and keepalived.conf split lines on whitespace and treat '#' as a comment, so a
// value containing either would silently change what the file means. Values are refused, not
// escaped, and the error names the field so the inventory or option can be fixed.
import { isIPv4 } from '../../config/net.js';

const WORD = /^[A-Za-z0-9._:/*%@+=,-]+$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function confWord(value: string | number, field: string): string {
  const s = String(value);
  if (!WORD.test(s)) throw new Error(`${field}: ${JSON.stringify(s)} cannot be written to a config file (letters, digits and ._:/*%@+=,- only)`);
  return s;
}

export function ipv4Option(value: string, field: string): string {
  if (!isIPv4(value)) throw new Error(`${field}: ${JSON.stringify(value)} is not an IPv4 address`);
  return value;
}

export function portOption(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${field}: ${value} is not a TCP port (1-65535)`);
  return value;
}

export function nameOption(value: string, field: string): string {
  if (!NAME.test(value)) throw new Error(`${field}: ${JSON.stringify(value)} is not a name (letters, digits, '.', '_', '-', at most 63)`);
  return value;
}

export function intOption(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${field}: ${value} must be a whole number from ${min} to ${max}`);
  return value;
}
