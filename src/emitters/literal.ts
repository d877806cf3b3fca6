/** The one printer of TypeScript literals the emitters put into generated code. */

/** A value as TypeScript source: single-quoted strings, `{ a: 1 }` objects (undefined members left out), `[1, 2]` arrays. */
export function tsLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(tsLiteral).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{ ${entries.map(([k, v]) => `${k}: ${tsLiteral(v)}`).join(', ')} }`;
}
