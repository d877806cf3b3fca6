/**
 * Files an emitter marks `formatted` skip prettier in the plan (emitters/layout.ts).
 * Formatting them again must change nothing, on the example schema, the bench's
 * synthetic schema and a schema of very long and very short names (where a line
 * layout that only works for typical names would show).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { CLIENT_SNAPSHOT_PATH } from '../../src/emitters/client/index.js';
import { parseSnapshot } from '../../src/emitters/client/schema-snapshot.js';
import type { EmitOptions } from '../../src/emitters/types.js';
import { emitters } from '../../src/generate.js';
import { loadProject } from '../../src/model/build.js';
import { overWidth, parserFor } from '../../src/plan/format.js';
import { namesSchema, PRETTIER_OPTIONS } from '../support/schemas.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-preformatted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


async function emitted(schemaPath: string, withMigrations = false) {
  const project = await loadProject(schemaPath);
  const options: EmitOptions = { runtimeServer: 'trackhub-gen/runtime/server', runtimeClient: 'trackhub-gen/runtime/client' };
  const emitAll = async (o: EmitOptions) => (await Promise.all(emitters.map((emit) => emit(project, o)))).flat();
  const files = await emitAll(options);
  if (!withMigrations) return files;
  // A previous device schema without the last table and without a column of the first:
  // migrations.ts then has a createTable and an addColumns step.
  const snapshot = parseSnapshot(files.find((f) => f.path === CLIENT_SNAPSHOT_PATH)!.content, 'snapshot');
  const [first, ...rest] = snapshot.tables;
  const previous = { ...snapshot, tables: [{ ...first!, columns: first!.columns.slice(0, -1) }, ...rest.slice(0, -1)] };
  return emitAll({ ...options, previousClientSchema: previous });
}

describe('preformatted emitter output', () => {
  it.each([
    ['the example schema', path.resolve('fixtures/trackhub/schema.prisma')],
    ['a synthetic 12-model schema (bench)', 'synthetic'],
    ['long and short names', 'names'],
    ['one entity', 'one'],
    ['the example schema with device migrations', 'migrations'],
  ])('formatting the files marked formatted again changes nothing: %s', async (_name, schema) => {
    let schemaPath = schema === 'migrations' ? path.resolve('fixtures/trackhub/schema.prisma') : schema;
    if (schema === 'synthetic' || schema === 'names' || schema === 'one') {
      schemaPath = path.join(tmp, `${schema}.prisma`);
      writeFileSync(schemaPath, schema === 'synthetic' ? syntheticSchema(12) : schema === 'one' ? syntheticSchema(1) : namesSchema());
    }
    const all = await emitted(schemaPath, schema === 'migrations');
    if (schema === 'migrations') expect(all.find((f) => f.path.endsWith('migrations.ts'))!.content).toMatch(/createTable\([\s\S]*addColumns\(|addColumns\([\s\S]*createTable\(/);
    const files = all.filter((f) => f.formatted);
    expect(files.length).toBeGreaterThan(10);
    // Every file is emitted in its final format: a cold generate never loads prettier.
    expect(all.filter((f) => parserFor(f.path) && !f.formatted).map((f) => f.path)).toEqual([]);
    let skipped = 0;
    for (const file of files) {
      const parser = parserFor(file.path);
      expect(parser, file.path).toBeDefined();
      expect(file.content.endsWith('\n'), `${file.path} ends with a newline`).toBe(true);
      // A line over the print width sends the file to prettier in the plan (the layout missed a case).
      if (parser === 'babel-ts' && overWidth(file.content)) {
        skipped++;
        continue;
      }
      expect(await prettier.format(file.content, { ...PRETTIER_OPTIONS, parser }), file.path).toBe(file.content);
    }
    // Typical names never take that way out: every marked file is final as emitted.
    if (schema !== 'names') expect(skipped).toBe(0);

  });
});
