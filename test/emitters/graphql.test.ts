import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { buildSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { naturalCompare as graphqlNaturalCompare } from 'graphql/jsutils/naturalCompare.js';
import { describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { emitGraphql, rawSdl } from '../../src/emitters/graphql/index.js';
import { naturalCompare, sortSdl } from '../../src/emitters/graphql/sdl-order.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { loadProject, projectFromText } from '../../src/model/build.js';

describe('GraphQL emitter', () => {
  // The emitter skips graphql-js's SDL validation for speed: the SDL it prints must pass it.
  it('prints SDL that passes graphql-js validation (example, edge fixture, synthetic bench schema)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-sdl-'));
    try {
      writeFileSync(path.join(dir, 'synthetic.prisma'), syntheticSchema(20));
      const projects = [
        await loadProject(path.resolve('fixtures/trackhub/schema.prisma')),
        projectFromText(readFileSync('test/server/fixtures/edge.prisma', 'utf8'), 'edge.prisma'),
        await loadProject(path.join(dir, 'synthetic.prisma')),
      ];
      for (const project of projects) {
        const [file] = emitGraphql(project, defaultEmitOptions);
        expect(() => buildSchema(file!.content), project.schemaPath).not.toThrow();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('orders the SDL exactly as graphql-js prints it after lexicographicSortSchema (example, edge fixture, synthetic 20 and 400 models)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-sdl-order-'));
    try {
      writeFileSync(path.join(dir, 's20.prisma'), syntheticSchema(20));
      writeFileSync(path.join(dir, 's400.prisma'), syntheticSchema(400));
      const projects = [
        await loadProject(path.resolve('fixtures/trackhub/schema.prisma')),
        projectFromText(readFileSync('test/server/fixtures/edge.prisma', 'utf8'), 'edge.prisma'),
        await loadProject(path.join(dir, 's20.prisma')),
        await loadProject(path.join(dir, 's400.prisma')),
      ];
      for (const project of projects) {
        const raw = rawSdl(project);
        expect(sortSdl(raw), project.schemaPath).toBe(printSchema(lexicographicSortSchema(buildSchema(raw))));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("compares names in graphql-js's natural order", () => {
    const names = ['Model10', 'model2', 'Model2', 'Model1', 'Model', 'Model02x', 'Model002', 'Model0', 'a10b', 'a9b', 'a10a', 'x_1', 'X1', '_a'];
    expect([...names].sort(naturalCompare)).toEqual([...names].sort(graphqlNaturalCompare));
    expect(['Model10', 'Model9', 'Model'].sort(naturalCompare)).toEqual(['Model', 'Model9', 'Model10']);
    expect(() => sortSdl('type A {\n  a: Int\n')).toThrow(/not closed/);
    expect(() => sortSdl('union U = A | B')).toThrow(/unexpected line/);
  });

  it('omits the update input and mutation of an entity whose data fields are all readonly', () => {
    const project = projectFromText(readFileSync('test/server/fixtures/edge.prisma', 'utf8'), 'edge.prisma');
    const [file] = emitGraphql(project, defaultEmitOptions);
    const readonlyOnly = project.entities.find((e) => e.dataFields.length > 0 && e.dataFields.every((f) => f.access === 'readonly'));
    expect(readonlyOnly).toBeDefined();
    expect(file.content).toContain(`input ${readonlyOnly!.name}CreateInput`);
    expect(file.content).not.toContain(`${readonlyOnly!.name}UpdateInput`);
    expect(file.content).not.toContain(`update${readonlyOnly!.name}(`);
  });
});
