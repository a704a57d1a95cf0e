#!/usr/bin/env node
// Entry point installed as `mooring` (npx mooring, npm link); the compiled CLI lives in dist/.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = new URL('../dist/client/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(`mooring: not built yet (no dist/client/cli.js): run \`npm run build\` in ${root}\n  (\`npm start\` or \`npm test\` there also do the set-up that is missing)\n`);
  process.exitCode = 1;
} else {
  // Node 22.1+: cache compiled code between runs (start-up time); older Node has no such API.
  module.enableCompileCache?.();
  await import(cli.href).catch((err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write(`mooring: ${err.message}\n  missing dependencies? run \`npm install\` (or \`npm start\`/\`npm test\`, which set up) in ${root}\n`);
    process.exitCode = 1;
  });
}
