#!/usr/bin/env node
// Entry point installed as `mooring`; the compiled CLI lives in dist/ (npm run build).
import('../dist/client/cli.js').catch((err) => {
  process.stderr.write(`mooring: ${err.code === 'ERR_MODULE_NOT_FOUND' ? 'not built yet: run `npm run setup` (or `npm run build`)' : err.message}\n`);
  process.exitCode = 1;
});
