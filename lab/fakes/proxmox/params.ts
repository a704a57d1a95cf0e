// SIMULATED: Proxmox VE's parameter verification (its JSONSchema): parameters arrive form-encoded
// (or as JSON), unknown ones are refused, missing required ones named, and typed values checked.
// All problems are collected into one 400 "Parameter verification failed." with an errors map,
// which is what PVE answers and what a client's error reporting has to cope with.
import { paramError } from './errors.js';

export type Param =
  | { type: 'integer'; optional?: boolean; min?: number; max?: number }
  | { type: 'boolean'; optional?: boolean }
  | { type: 'string'; optional?: boolean; maxLength?: number; enum?: readonly string[]; check?: (v: string) => string | undefined };

export type Schema = Record<string, Param>;

/** `net0`, `ipconfig3`, `scsi1`: PVE's numbered options, checked by the schema of their family. */
export type FamilySchema = [RegExp, Param][];

export type Values = Record<string, string | number>;

function family(key: string, families: FamilySchema): Param | undefined {
  return families.find(([re]) => re.test(key))?.[1];
}

export function checkValue(p: Param, raw: unknown): { value?: string | number; error?: string } {
  const text = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
  switch (p.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(text)) return { error: `type check ('integer') failed - got '${text}'` };
      const n = Number(text);
      if (p.min !== undefined && n < p.min) return { error: `value must have a minimum value of ${p.min}` };
      if (p.max !== undefined && n > p.max) return { error: `value must have a maximum value of ${p.max}` };
      return { value: n };
    }
    case 'boolean': {
      const t = text.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return { value: 1 };
      if (['0', 'false', 'no', 'off'].includes(t)) return { value: 0 };
      return { error: `type check ('boolean') failed - got '${text}'` };
    }
    case 'string': {
      if (typeof raw === 'object') return { error: `type check ('string') failed - got ${JSON.stringify(raw)}` };
      if (p.maxLength !== undefined && text.length > p.maxLength) return { error: `value may only be ${p.maxLength} characters long` };
      if (p.enum && !p.enum.includes(text)) return { error: `value '${text}' does not have a value in the enumeration '${p.enum.join(', ')}'` };
      const why = p.check?.(text);
      return why ? { error: why } : { value: text };
    }
  }
}

/** Checks every parameter; throws the 400 PVE sends with all errors at once. */
export function verify(input: unknown, schema: Schema, families: FamilySchema = []): Values {
  const params = input === undefined ? {} : input;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw paramError({ body: 'parameters must be an object' });
  const errors: Record<string, string> = {};
  const out: Values = {};
  for (const [key, raw] of Object.entries(params)) {
    const p = schema[key] ?? family(key, families);
    if (!p) { errors[key] = 'property is not defined in schema and the schema does not allow additional properties'; continue; }
    const r = checkValue(p, raw);
    if (r.error) errors[key] = r.error;
    else if (r.value !== undefined) out[key] = r.value;
  }
  for (const [key, p] of Object.entries(schema)) if (!p.optional && params[key as keyof typeof params] === undefined) errors[key] ??= 'property is missing and it is not optional';
  if (Object.keys(errors).length) throw paramError(errors);
  return out;
}

export const VMID: Param = { type: 'integer', min: 100, max: 999_999_999 };

const DNS_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?';
export function dnsName(v: string): string | undefined {
  return new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`).test(v) && v.length <= 253 ? undefined : `invalid format - value '${v}' does not look like a valid DNS name`;
}

/** Parses a PVE property string `a=1,b=2` (with an optional leading default key). */
export function propertyString(v: string, defaultKey?: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    if (part === '') return undefined;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (!defaultKey || defaultKey in out) return undefined;
      out[defaultKey] = part;
    } else out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
