// The inventory's JSON Schema for editors: generated from config/schema.ts and checked in. This
// test is what catches a schema change whose author forgot `npm run schema:inventory`, and it
// checks the file with a real JSON Schema validator (Ajv) the way an editor would use it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { INVENTORY_SCHEMA_FILE, inventoryJsonSchemaText, jsonSchemaOf, schemaModeline } from '../../config/json-schema.js';
import { loadInventory, parseInventory } from '../../config/load.js';
import { PROJECT_ROOT } from '../../client/tools.js';

const EXAMPLES = join(PROJECT_ROOT, 'config/examples');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

function editorCheck(): (value: unknown) => ErrorObject[] {
  // Formats (uri) are left to the editor; strict mode refuses keywords Ajv does not know.
  const validate = new Ajv({ allErrors: true, strict: true, validateFormats: false }).compile(JSON.parse(readFileSync(INVENTORY_SCHEMA_FILE, 'utf8')) as object);
  return (value) => (validate(value) ? [] : [...(validate.errors ?? [])]);
}

function example(file: string): Record<string, unknown> {
  return parseDocument(readFileSync(join(EXAMPLES, file), 'utf8')).toJS() as Record<string, unknown>;
}

describe('inventory JSON Schema', () => {
  it('config/inventory.schema.json is what config/schema.ts generates today', () => {
    const current = inventoryJsonSchemaText();
    const onDisk = readFileSync(INVENTORY_SCHEMA_FILE, 'utf8');
    assert.ok(onDisk === current, 'config/inventory.schema.json is stale: config/schema.ts changed. Run `npm run schema:inventory` and commit the file.');
  });

  it('every example points at it, still loads, and passes it', async () => {
    const check = editorCheck();
    assert.ok(exampleFiles.length >= 3);
    for (const file of exampleFiles) {
      const first = readFileSync(join(EXAMPLES, file), 'utf8').split('\n')[0];
      assert.equal(first, schemaModeline(EXAMPLES), file);
      await loadInventory(join(EXAMPLES, file));
      assert.deepEqual(check(example(file)), [], file);
    }
  });

  it('an editor is told about unknown fields, wrong enums, missing fields and bad patterns', () => {
    const check = editorCheck();
    const inv = example('seed-003-proxmox-stacked-etcd.yaml');
    const where = (v: unknown) => check(v).map((e) => `${e.instancePath} ${e.keyword}`);
    assert.ok(where({ ...inv, mastres: [] }).includes(' additionalProperties'));
    assert.ok(where({ ...inv, kubernetes: { ...(inv.kubernetes as object), cni: 'weave' } }).includes('/kubernetes/cni enum'));
    const noMasters = { ...inv };
    delete noMasters.masters;
    assert.ok(where(noMasters).includes(' required'));
    assert.ok(where({ ...inv, cluster: { name: 'Molly_1' } }).includes('/cluster/name pattern'));
  });

  it('refinements are not in it: an editor accepts what `mooring validate` refuses', () => {
    // The limit docs/inventory.md states: IPv4/CIDR checks and cross-field rules are zod refinements.
    const check = editorCheck();
    const inv = example('seed-003-proxmox-stacked-etcd.yaml');
    const badVip = { ...inv, loadBalancer: { ...(inv.loadBalancer as object), vip: '10.0.1' } };
    assert.deepEqual(check(badVip), []);
    assert.throws(() => parseInventory(badVip), /loadBalancer\.vip: "10\.0\.1" is not an IPv4 address/);
  });

  it('every field of the inventory has a description an editor shows on hover', () => {
    // Walks the generated schema: each property of each object (through unions, arrays, defaults)
    // must carry the text its zod field gives with .describe().
    const missing: string[] = [];
    let fields = 0;
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        fields += 1;
        if (typeof v.description !== 'string' || v.description.trim().length < 5) missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
      for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const alt of (n[key] ?? []) as unknown[]) walk(alt, path);
      if (n.items) walk(n.items, `${path}[]`);
    };
    const doc = JSON.parse(readFileSync(INVENTORY_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    walk(doc, '');
    assert.ok(fields > 80, `only ${fields} fields found: the walk missed part of the schema`);
    assert.deepEqual(missing, [], `fields without .describe() in config/schema.ts: ${missing.join(', ')}`);
  });

  it('descriptions in the zod schema become descriptions an editor shows', () => {
    const s = jsonSchemaOf(z.strictObject({ vip: z.string().describe('The address the API is reached on') }));
    assert.deepEqual((s.properties as Record<string, { description?: string }>).vip?.description, 'The address the API is reached on');
  });
});
