/**
 * Node's built-in modules for the few defaults that only make sense in Node
 * (database directory, file sizes, reading a file to upload), reached through
 * `process.getBuiltinModule` rather than an import statement so that bundlers
 * for the browser and React Native never see a `node:` specifier.
 */
import type * as NodeFs from 'node:fs';

/** `node:fs` in Node (20.16+), or null on any other platform. */
export function nodeFs(): typeof NodeFs | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.('node:fs') as typeof NodeFs | undefined) ?? null;
}
