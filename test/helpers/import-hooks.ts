// Module resolve hook (runs on Node's loader thread): appends every URL the ESM loader resolves to
// the file named by MOORING_RECORD_IMPORTS. Installed by record-imports.ts.
import { appendFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';

const file = process.env.MOORING_RECORD_IMPORTS;

export const resolve: ResolveHook = async (specifier, context, next) => {
  const result = await next(specifier, context);
  if (file) appendFileSync(file, `${result.url}\n`);
  return result;
};
