import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { emitGraphql } from '../../src/emitters/graphql/index.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { projectFromText } from '../../src/model/build.js';

describe('GraphQL emitter', () => {
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
