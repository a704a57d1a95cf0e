// Scratch directories for tests and benchmarks, removed when the process ends.
// Why it matters: a lab's etcd preallocates 64 MB WAL files per member and the recovery runbooks
// never delete a moved-aside data dir, so one lab suite leaves about 1 GB behind. Left in /tmp,
// a few full runs filled this machine's disk and a later CI run failed for lack of space.
// MOORING_KEEP_SCRATCH=1 keeps them for a post-mortem (each kept path is printed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let hooked = false;

/** A new directory under the system's temp dir, named `<prefix>XXXXXX`; gone when the process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    // 'exit' runs after every after() hook, so labs in these dirs have been brought down by then.
    process.on('exit', removeScratch);
  }
  return dir;
}

function removeScratch(): void {
  const keep = !!process.env.MOORING_KEEP_SCRATCH;
  for (const dir of made.splice(0)) {
    if (keep) process.stderr.write(`kept scratch dir ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
