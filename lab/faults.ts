// SIMULATED faults that act on files: a node's lost disk and a damaged snapshot. Paths here are
// on this machine (a node's view mapped by the lab), never inside a node.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';

/**
 * The disk under `dataDir` is lost: the node sees an empty data dir. The old contents are kept
 * at `keptAt`, outside the node's view, so `clear` can give the disk back.
 */
export function loseDataDir(dataDir: string, keptAt: string): void {
  rmSync(keptAt, { recursive: true, force: true });
  if (existsSync(dataDir)) renameSync(dataDir, keptAt);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * Gives a lost disk back, but only to a data dir that is still empty: once a recovery has put a
 * new member's data there, the old disk is stale and is dropped instead.
 */
export function restoreDataDir(dataDir: string, keptAt: string): 'restored' | 'stale' | 'none' {
  if (!existsSync(keptAt)) return 'none';
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    rmSync(keptAt, { recursive: true, force: true });
    return 'stale';
  }
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(keptAt, dataDir);
  return 'restored';
}

/** Overwrites 4 KiB in the middle of the file, as a bad sector or a bit-rotted upload would. */
export function corruptFile(file: string): void {
  const buf = readFileSync(file);
  if (buf.length < 64) throw new Error(`${file} has ${buf.length} bytes: too small to corrupt`);
  const at = Math.floor(buf.length / 2);
  buf.fill(0xa5, at, Math.min(buf.length - 1, at + 4096));
  writeFileSync(file, buf);
}

/** Cuts the file to half its size, as an interrupted copy would. */
export function truncateFile(file: string): void {
  truncateSync(file, Math.floor(statSync(file).size / 2));
}
