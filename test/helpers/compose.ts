// docker/versions.env and docker-compose.yml as docker compose reads them: the env file's KEY=VALUE
// lines, and the interpolation compose applies to every string value after parsing the YAML.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';

export const VERSIONS_ENV = join(PROJECT_ROOT, 'docker', 'versions.env');
export const COMPOSE_FILE = join(PROJECT_ROOT, 'docker-compose.yml');

/** KEY=VALUE lines; blank lines and `#` comments skipped; anything else is refused. */
export function readEnvFile(file = VERSIONS_ENV): Record<string, string> {
  const out: Record<string, string> = {};
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const m = /^([A-Z][A-Z0-9_]*)=(\S+)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: "${line}" is not a plain KEY=VALUE line`);
    out[m[1]!] = m[2]!;
  });
  return out;
}

/**
 * Compose's interpolation of one string: `$$` is a literal `$`; `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}` and `${VAR?error}` (the `:` forms also treat an empty value as unset).
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name: string | undefined, colon: string, op: string, arg: string) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    const unset = value === undefined || (colon === ':' && value === '');
    if (!op) return value ?? '';
    if (op === '-') return unset ? arg : value!;
    if (unset) throw new Error(`${name}: ${arg}`);
    return value!;
  });
}

/** Every string in a parsed YAML value interpolated, as compose does before validating. */
export function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  return value;
}
