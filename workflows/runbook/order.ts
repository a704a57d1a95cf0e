// String order for workflow code. `localeCompare` follows the worker's ICU data and locale, so two
// workers (or one after a Node upgrade) could order the same members differently and a replay
// would pick another host: workflow code compares by Unicode code point instead. Pure.

/** Negative, zero or positive as `a` sorts before, with or after `b`, by Unicode code point. */
export function compareCodePoints(a: string, b: string): number {
  // `<` on strings compares UTF-16 code units, which puts U+10000 and above before U+E000-U+FFFF:
  // walk code points so the order is the code-point order for every string.
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}
