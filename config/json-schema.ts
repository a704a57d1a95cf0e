// The inventory as a JSON Schema, for editors (VS Code's YAML extension and any other client of
// yaml-language-server complete and check an inventory as it is typed). Generated from the zod
// schema in schema.ts, never written by hand: `npm run schema:inventory` writes
// config/inventory.schema.json and a unit test fails when the file is not what this makes.
//
// What JSON Schema cannot say: zod refinements (a string that must be an IPv4 address or CIDR,
// and every cross-field rule of `crossFieldRules`) come out as their plain type. The editor
// checks shape, types, patterns, enums and unknown fields; `mooring validate` checks the rest.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Inventory } from './schema.js';

export const INVENTORY_SCHEMA_FILE = fileURLToPath(new URL('../../config/inventory.schema.json', import.meta.url));

/** The JSON Schema of what a person writes (zod's input side: fields with defaults are optional). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  // draft-07: what yaml-language-server and VS Code's JSON service support fully.
  return z.toJSONSchema(schema, { target: 'draft-07', io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
}

/** The text of config/inventory.schema.json. */
export function inventoryJsonSchemaText(): string {
  const { $schema, ...rest } = jsonSchemaOf(Inventory);
  const doc = {
    $schema,
    title: 'Mooring cluster inventory',
    description: 'One cluster: provider, hosts, SSH, load balancer, etcd, Kubernetes, backups. Generated from config/schema.ts; '
      + 'addresses, CIDRs and cross-field rules (odd etcd count, unique names and addresses, VIP, control plane endpoint) are checked by `mooring validate` only.',
    ...rest,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The yaml-language-server comment that points an inventory written in `dir` at the schema. */
export function schemaModeline(dir: string): string {
  return `# yaml-language-server: $schema=${relative(dir, INVENTORY_SCHEMA_FILE)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(INVENTORY_SCHEMA_FILE, inventoryJsonSchemaText());
  process.stdout.write(`wrote ${relative(process.cwd(), INVENTORY_SCHEMA_FILE) || INVENTORY_SCHEMA_FILE}\n`);
}
