// Every value that goes into a remote shell command passes through here: validated where a
// format is known, and single-quoted always, so no value can become shell syntax.

/** POSIX single-quote: 'it'\''s' — safe for any byte string without NUL. */
export function shellQuote(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Tagged template: sh`ls -l ${dir}` quotes each interpolated value; arrays become quoted word lists. */
export function sh(strings: TemplateStringsArray, ...values: (string | number | readonly (string | number)[])[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += Array.isArray(v) ? v.map(shellQuote).join(' ') : shellQuote(v as string | number);
    out += strings[i + 1] ?? '';
  });
  return out;
}
