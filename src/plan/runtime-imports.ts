/**
 * User-owned files reach the runtime through the generated re-export
 * (`server/generated/runtime.ts`), so changing `runtimeServer` moves them
 * along. A user file that still imports a runtime specifier other than the
 * configured one (written before the change, or by hand) is stranded: `check`
 * reports it with the import to use instead. Pure: a function of the planned
 * changes and the options.
 */
import type { EmitOptions } from '../emitters/types.js';
import { defaultEmitOptions } from '../emitters/types.js';
import type { FileChange } from './apply.js';

export interface StrandedImport {
  /** The user-owned file, relative to the output directory. */
  path: string;
  line: number;
  col: number;
  specifier: string;
  /** What to import from instead. */
  fix: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

/** A specifier that names a trackhub runtime: one of the configured or default ones, or any `.../runtime/server|client`. */
function isRuntimeSpecifier(specifier: string, known: ReadonlySet<string>): boolean {
  return known.has(specifier) || /(^|\/)runtime\/(server|client)(\/|$)/.test(specifier);
}

export function strandedRuntimeImports(changes: readonly FileChange[], options: EmitOptions): StrandedImport[] {
  const known = new Set([
    options.runtimeServer,
    options.runtimeClient,
    defaultEmitOptions.runtimeServer,
    defaultEmitOptions.runtimeClient,
  ]);
  const found: StrandedImport[] = [];
  for (const change of changes) {
    if (change.owner !== 'user' || change.before === undefined || !/\.[cm]?tsx?$/.test(change.path)) continue;
    const lines = change.before.split('\n');
    lines.forEach((text, i) => {
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[2]!;
        if (specifier.startsWith('.') || !isRuntimeSpecifier(specifier, known)) continue;
        if (specifier === options.runtimeServer || specifier === options.runtimeClient) continue;
        const server = !/(^|\/)runtime\/client(\/|$)/.test(specifier) && specifier !== options.runtimeClient && specifier !== defaultEmitOptions.runtimeClient;
        const depth = change.path.split('/').length - 2; // directories below server/
        const fix = server && change.path.startsWith('server/')
          ? `'${depth > 0 ? '../'.repeat(depth) : './'}generated/runtime.js'` + ` (or '${options.runtimeServer}')`
          : `'${server ? options.runtimeServer : options.runtimeClient}'`;
        found.push({ path: change.path, line: i + 1, col: (match.index ?? 0) + match[0].lastIndexOf(match[1]!, match[0].length - specifier.length - 1) + 1, specifier, fix });
      }
    });
  }
  return found;
}
