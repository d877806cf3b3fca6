import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { emitters } from '../../src/generate.js';
import { loadProject } from '../../src/model/build.js';
import { formatAll, noFormatCache, openFormatCache } from '../../src/plan/format.js';

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

  it('caches by content: a second run reads the cache, a changed text is formatted again, bad output still fails; a read-only cache (check) writes nothing', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const open = (readOnly = false) => openFormatCache({ cwd: tmp, env: { TRACKHUB_GEN_CACHE_DIR: cacheDir }, readOnly });
    const first = await formatAll([{ path: 'a.ts', content: 'export const a = {b:1}' }, { path: 'x.txt', content: 'as is' }], open());
    expect(first).toEqual(['export const a = { b: 1 };\n', 'as is']);
    const cacheFile = path.join(cacheDir, 'format-v1.json');
    const saved = readFileSync(cacheFile, 'utf8');
    expect(Object.values(JSON.parse(saved) as Record<string, string>)).toEqual(['export const a = { b: 1 };\n']);
    const again = await formatAll([{ path: 'a.ts', content: 'export const a = {b:1}' }], open());
    expect(again).toEqual(first.slice(0, 1));
    // check: reads the cache, formats what is missing, leaves the file as it was
    expect(await formatAll([{ path: 'b.ts', content: 'export const b = {c:1}' }], open(true))).toEqual(['export const b = { c: 1 };\n']);
    expect(readFileSync(cacheFile, 'utf8')).toBe(saved);
    expect(await formatAll([{ path: 'a.ts', content: 'export const a = {b:2}' }], open())).toEqual(['export const a = { b: 2 };\n']);
    await expect(formatAll([{ path: 'broken.ts', content: 'export const = ;' }], open())).rejects.toThrow(/emitted broken.ts does not parse/);
    // off, and no cache at all: nothing read or written
    expect(openFormatCache({ cwd: tmp, env: { TRACKHUB_GEN_CACHE: 'off', TRACKHUB_GEN_CACHE_DIR: cacheDir } })).toBe(noFormatCache);
  });
});
