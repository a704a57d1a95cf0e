// Sizes as people write them in an inventory ("8GiB", "4096 MiB", "2GB") or as a plain byte
// count, to bytes. Binary units are powers of 1024 (what etcd's docs use: "8 GiB"), decimal units
// powers of 1000, so "8GB" is not silently read as 8 GiB.
const UNITS: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3,
};

export const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/;

/** Bytes of "8GiB" / "1.5 GiB" / "2000MB" (whole bytes, rounded down); undefined when it is no size. */
export function parseByteSize(text: string): number | undefined {
  const m = BYTE_SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte count for messages: exact GiB/MiB when it is one, else bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
