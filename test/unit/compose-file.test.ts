// docker-compose.yml against the Compose Specification's own JSON schema (vendored, see
// test/vendor/compose-spec/SOURCE.md), after the interpolation compose does with
// docker/versions.env; and the pins: every image and every Dockerfile base tag from that one file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../client/tools.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/runbook/search-attributes.js';
import { COMPOSE_FILE, interpolate, interpolateAll, readEnvFile } from '../helpers/compose.js';

const SPEC = join(PROJECT_ROOT, 'test', 'vendor', 'compose-spec', 'compose-spec.json');

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  entrypoint?: string[];
  volumes?: string[];
}

function composeCheck(): (doc: unknown) => ErrorObject[] {
  // The spec's $schema is draft-07 under its https name, which Ajv does not know by that name.
  const draft07 = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
  // strictSchema refuses keywords Ajv does not know; the spec's type unions and untyped
  // additionalProperties are valid draft-07 that Ajv's stricter style checks would refuse.
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false });
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  const validate = ajv.compile(JSON.parse(readFileSync(SPEC, 'utf8')) as object);
  return (doc) => (validate(doc) ? [] : [...(validate.errors ?? [])]);
}

const raw = (): Record<string, unknown> => parse(readFileSync(COMPOSE_FILE, 'utf8')) as Record<string, unknown>;
const env = () => ({ ...readEnvFile(), POSTGRES_PASSWORD: 'not-a-real-password' });
const services = (doc: Record<string, unknown>) => doc.services as Record<string, Service>;

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification schema once interpolated with docker/versions.env', () => {
    const errors = composeCheck()(interpolateAll(raw(), env()));
    assert.deepEqual(errors.map((e) => `${e.instancePath} ${e.message}`), []);
  });

  it('the schema check refuses a broken file (misspelt key, wrong type), naming where', () => {
    const doc = interpolateAll(raw(), env()) as Record<string, unknown>;
    const svc = services(doc);
    (svc.temporal as Record<string, unknown>).imagee = 'temporalio/server';
    (svc['mooring-worker'] as Record<string, unknown>).deploy = { replicas: { count: 2 } };
    const errors = composeCheck()(doc);
    const where = errors.map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    assert.ok(where.some((w) => w.startsWith('/services/temporal ') && w.includes('imagee')), where.join('; '));
    assert.ok(where.some((w) => w.startsWith('/services/mooring-worker/deploy/replicas ')), where.join('; '));
  });

  it('pins every image to a version from docker/versions.env, and refuses to run without it', () => {
    const versions = readEnvFile();
    const images = Object.entries(services(raw())).filter(([, s]) => s.image);
    assert.ok(images.length >= 5, 'postgresql, admin-tools (twice), server, ui');
    for (const [name, s] of images) {
      const m = /^[a-z0-9/.-]+:\$\{([A-Z_]+):\?[^}]+\}$/.exec(s.image!);
      assert.ok(m, `${name}: image "${s.image}" must be repo:\${VAR:?…} with VAR in docker/versions.env`);
      const value = versions[m[1]!];
      assert.ok(value, `${name}: ${m[1]} is not in docker/versions.env`);
      assert.match(value, /^\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/, `${name}: ${m[1]}=${value} is not a full version`);
      // Without the env file compose stops with the fix instead of pulling something else.
      assert.throws(() => interpolate(s.image!, {}), /--env-file docker\/versions\.env/);
    }
  });

  it('builds the worker image from the same file: every Dockerfile ARG is a compose build arg from versions.env', () => {
    const versions = readEnvFile();
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const argNames = [...dockerfile.matchAll(/^ARG ([A-Z_]+)$/gm)].map((m) => m[1]!).sort();
    const worker = services(raw())['mooring-worker']!;
    const buildArgs = worker.build?.args ?? {};
    assert.deepEqual(Object.keys(buildArgs).sort(), argNames);
    for (const [k, v] of Object.entries(buildArgs)) {
      assert.ok(versions[k], `${k} missing from docker/versions.env`);
      assert.equal(interpolate(v, versions), versions[k]);
    }
    // Every base image is tagged by one of those ARGs (or is an earlier stage): nothing floats.
    const stages: string[] = [];
    for (const m of dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)) {
      assert.ok(stages.includes(m[1]!) || /:\$\{[A-Z_]+\}[a-z0-9-]*$/.test(m[1]!), `FROM ${m[1]} is not pinned by a build arg`);
      if (m[2]) stages.push(m[2]);
    }
    assert.ok(stages.length >= 2);
  });

  it('runs scripts that exist under docker/ and parse, and registers the search attributes the workflows use', () => {
    for (const [name, s] of Object.entries(services(raw()))) {
      const script = s.entrypoint?.find((a) => a.startsWith('/mooring/'));
      if (!script) continue;
      assert.ok(s.volumes?.includes('./docker:/mooring:ro'), `${name} mounts ./docker at /mooring`);
      const file = join(PROJECT_ROOT, 'docker', script.slice('/mooring/'.length));
      assert.ok(existsSync(file), `${name}: ${file}`);
      execFileSync('sh', ['-n', file]);
    }
    const script = readFileSync(join(PROJECT_ROOT, 'docker', 'setup-namespace.sh'), 'utf8');
    const listed = /for name in ([A-Za-z ]+); do/.exec(script)?.[1]?.split(' ').sort();
    assert.deepEqual(listed, SEARCH_ATTRIBUTE_FLAGS.map((f) => f.split('=')[0]!).sort());
  });
});
