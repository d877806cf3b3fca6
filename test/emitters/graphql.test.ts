import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { emitGraphql } from '../../src/emitters/graphql/index.js';
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
