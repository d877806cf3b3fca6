/** Each planned file names the entity it belongs to, as its emitter says (no guess from the path). */
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { defaultEmitOptions } from '../../src/emitters/types.js';
import { planProject } from '../../src/generate.js';
import { artifactsOf } from '../../src/model/artifacts.js';
import { loadProject } from '../../src/model/build.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/trackhub/schema.prisma');

describe('entity tags of the plan', () => {
  it('tags every per-entity file on both sides with its entity, and no shared file', async () => {
    const project = await loadProject(FIXTURE);
    const plan = await planProject(project, defaultEmitOptions);
    const byPath = new Map(plan.map((f) => [f.path, f.entity]));
    expect(project.entities.length).toBeGreaterThan(2);
    for (const e of project.entities) {
      const own = plan.filter((f) => f.entity === e.name).map((f) => f.path).sort();
      expect(own).toEqual(
        [
          `client/generated/models/${e.typeName}.ts`,
          `client/generated/services/${artifactsOf(e).serviceClass}.ts`,
          `server/generated/${artifactsOf(e).serverDir}.descriptor.ts`,
          `server/generated/${artifactsOf(e).serverDir}.model.ts`,
          `server/generated/${artifactsOf(e).serverDir}.module.ts`,
          `server/generated/${artifactsOf(e).serverDir}.resolver.ts`,
          `server/generated/${artifactsOf(e).serverDir}.service.ts`,
          `server/hooks/${e.kebab}.hooks.ts`,
          `client/hooks/${e.kebab}.hooks.ts`,
        ].sort(),
      );
    }
    for (const shared of ['client/generated/schema.ts', 'client/generated/descriptors.ts', 'server/generated/index.ts', 'graphql/schema.graphql'])
      expect({ shared, planned: byPath.has(shared), entity: byPath.get(shared) }).toEqual({ shared, planned: true, entity: undefined });
  });
});
