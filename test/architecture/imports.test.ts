/**
 * The import map of src/ (docs/ARCHITECTURE.md): no cycles, a dependency-free
 * contract, and a generator that never loads a runtime (so not WatermelonDB,
 * not Prisma's client) just to learn names.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

let graph: Record<string, string[]>;
let cycles: string[][];

beforeAll(async () => {
  const result = await madge(src, {
    fileExtensions: ['ts'],
    tsConfig: path.join(root, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
  graph = result.obj();
  cycles = result.circular();
}, 120_000);

/** Bare package specifiers a file imports (type imports included). */
function packagesOf(file: string): string[] {
  const text = readFileSync(path.join(src, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** Every file reachable from `start` through relative imports. */
function reachable(start: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph[f] ?? []));
  }
  return seen;
}

describe('src/ import map', () => {
  it('has the whole tree in view', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(80);
    expect(graph['cli/main.ts']).toBeDefined();
  });

  it('has no import cycles', () => {
    expect(cycles.map((c) => c.join(' > '))).toEqual([]);
  });

  it('keeps src/contract/ free of every dependency', () => {
    const files = Object.keys(graph).filter((f) => f.startsWith('contract/'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect({ file: f, packages: packagesOf(f) }).toEqual({ file: f, packages: [] });
      expect({ file: f, imports: graph[f]!.filter((d) => !d.startsWith('contract/')) }).toEqual({ file: f, imports: [] });
    }
  });

  it('keeps the generator (model, schema, emitters, plan) off the runtimes and their databases', () => {
    const generator = Object.keys(graph).filter((f) => /^(model|schema|emitters|plan)\//.test(f));
    const seen = reachable(generator);
    expect(seen.has('model/build.ts')).toBe(true);
    for (const f of seen) {
      // A runtime file the generator reads must be a leaf of names (metric-names.ts, sync-clock-model.ts).
      const runtimeImports = f.startsWith('runtime/') ? [...graph[f]!, ...packagesOf(f)] : [];
      expect({ file: f, runtimeImports }).toEqual({ file: f, runtimeImports: [] });
      const dbPackages = packagesOf(f).filter((p) => /^@nozbe\/watermelondb|^@prisma\/client|^@nestjs\//.test(p));
      expect({ file: f, dbPackages }).toEqual({ file: f, dbPackages: [] });
    }
  });

  it('keeps schema/ below model/ (the schema reader does not import the model)', () => {
    const schemaFiles = Object.keys(graph).filter((f) => f.startsWith('schema/'));
    for (const f of schemaFiles) {
      expect({ file: f, model: graph[f]!.filter((d) => d.startsWith('model/')) }).toEqual({ file: f, model: [] });
    }
  });
});
