// Where the external programs Mooring drives are found: the set-up script's .tools/bin first,
// then PATH. Nothing is ever downloaded at run time.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function findTool(name: string, envVar?: string): string {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const candidates = [join(PROJECT_ROOT, '.tools', 'bin', name), ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, name))];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${name} not found: run \`npm run setup\` (it installs ${name} into .tools/bin)${envVar ? ` or set ${envVar}` : ''}`);
  return found;
}
