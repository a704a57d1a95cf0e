// `node --import …/record-imports.js`: records which modules a process loads, so a test can say
// which packages a CLI command pulls in. ESM imports are seen by a resolve hook; CommonJS modules
// (the AWS SDK and @temporalio/* are CommonJS) also by require.cache, written when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.MOORING_RECORD_IMPORTS;
if (file) {
  register('./import-hooks.js', import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const cjs = Object.keys(cache).map((p) => pathToFileURL(p).href);
    if (cjs.length) appendFileSync(file, `${cjs.join('\n')}\n`);
  });
}
