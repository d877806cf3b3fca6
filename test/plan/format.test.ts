import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { emitters } from '../../src/generate.js';
import { loadProject } from '../../src/model/build.js';
import { formatAll } from '../../src/plan/format.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-format-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OPTIONS = { printWidth: 100, singleQuote: true, trailingComma: 'all', semi: true, endOfLine: 'lf' } as const;

async function emitted(schemaPath: string): Promise<{ path: string; content: string }[]> {
  const project = await loadProject(schemaPath);
  const options = { runtimeServer: 'trackhub-gen/runtime/server', runtimeClient: 'trackhub-gen/runtime/client' };
  return (await Promise.all(emitters.map((emit) => emit(project, options)))).flat();
}

describe('plan formatting', () => {
  // The plan formats TypeScript with prettier's babel-ts parser (faster); it must print
  // exactly what the typescript parser prints for everything the emitters produce.
  it.each([
    ['the example schema', path.resolve('fixtures/trackhub/schema.prisma')],
    ['a synthetic 12-model schema (bench)', 'synthetic'],
  ])('babel-ts output equals typescript-parser output on %s', async (_name, schema) => {
    let schemaPath = schema;
    if (schema === 'synthetic') {
      schemaPath = path.join(tmp, 'synthetic.prisma');
      writeFileSync(schemaPath, syntheticSchema(12));
    }
    const files = (await emitted(schemaPath)).filter((f) => f.path.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const a = await prettier.format(file.content, { ...OPTIONS, parser: 'typescript' });
      const b = await prettier.format(file.content, { ...OPTIONS, parser: 'babel-ts' });
      expect(b, file.path).toBe(a);
    }
  });

  it('caches by content: a second run reads the cache, a changed text is formatted again, bad output still fails', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const saved = process.env.TRACKHUB_GEN_CACHE_DIR;
    process.env.TRACKHUB_GEN_CACHE_DIR = cacheDir;
    try {
      const first = await formatAll([{ path: 'a.ts', content: 'export const a = {b:1}' }, { path: 'x.txt', content: 'as is' }]);
      expect(first).toEqual(['export const a = { b: 1 };\n', 'as is']);
      const again = await formatAll([{ path: 'a.ts', content: 'export const a = {b:1}' }]);
      expect(again).toEqual(first.slice(0, 1));
      expect(await formatAll([{ path: 'a.ts', content: 'export const a = {b:2}' }])).toEqual(['export const a = { b: 2 };\n']);
      await expect(formatAll([{ path: 'broken.ts', content: 'export const = ;' }])).rejects.toThrow(/emitted broken.ts does not parse/);
    } finally {
      if (saved === undefined) delete process.env.TRACKHUB_GEN_CACHE_DIR;
      else process.env.TRACKHUB_GEN_CACHE_DIR = saved;
    }
  });
});
