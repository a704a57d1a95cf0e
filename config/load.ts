// Reading an inventory file: YAML (or JSON) in, a validated Inventory or every problem out.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { Inventory } from './schema.js';

export interface InventoryProblem {
  /** Dotted path with indexes, e.g. etcd.members[2].ip */
  path: string;
  message: string;
}

export class InventoryError extends Error {
  constructor(readonly source: string, readonly problems: InventoryProblem[]) {
    super(`${source}: ${problems.length} problem(s) in the inventory\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'InventoryError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(top level)';
}

function problemsOf(error: z.ZodError): InventoryProblem[] {
  return error.issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}: check the spelling against docs/inventory.md`;
    else if (i.code === 'invalid_type' && message.includes('received undefined')) message = `is required (${i.expected})`;
    return { path: formatPath(i.path), message };
  });
}

/** Validate an already-parsed value; throws InventoryError listing every problem. */
export function parseInventory(value: unknown, source = 'inventory'): Inventory {
  const result = Inventory.safeParse(value);
  if (!result.success) throw new InventoryError(source, problemsOf(result.error));
  return result.data;
}

/** Read, parse and validate an inventory file. */
export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InventoryError(file, [{ path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InventoryError(file, doc.errors.map((e) => ({ path: `(line ${e.linePos?.[0].line ?? '?'})`, message: e.message.split('\n')[0] ?? e.message })));
  }
  return parseInventory(doc.toJS(), file);
}
