/**
 * The server emitter on the fixture: file list, ownership, determinism, and a
 * `tsc --strict` (NodeNext, decorators) type-check of the emitted code together
 * with the runtime it imports and the real generated PrismaClient.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emitServer } from '../../src/emitters/server/index.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { ensurePrismaClient } from '../../src/prisma/generate-client.js';
import { emitFixtureServer, type EmittedServer } from './support/emit.js';
import { fixtureProject } from './support/fixture.js';
import { FIXTURE_SCHEMA, REPO_ROOT } from './support/prisma.js';
import { readFileSync } from 'node:fs';

const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');

let emitted: EmittedServer;

beforeAll(async () => {
  emitted = await emitFixtureServer('tsc');
});

afterAll(() => emitted?.remove());

describe('emitServer (fixture)', () => {
  it('emits the expected files with the right owners', () => {
    const listing = emitted.files.map((f) => `${f.owner} ${f.path}`);
    const perEntity = (kebab: string) =>
      ['descriptor', 'model', 'module', 'resolver', 'service'].map((k) => `generator server/generated/${kebab}/${kebab}.${k}.ts`);
    expect(listing.sort()).toEqual(
      [
        'user server/app.module.ts',
        'user server/auth/token-verifier.ts',
        'user server/main.ts',
        'generator server/generated/enums.ts',
        'generator server/generated/index.ts',
        'generator server/generated/sync/sync.registry.ts',
        'generator server/generated/trackhub.module.ts',
        ...['space', 'group', 'checklist', 'checklist-item', 'company', 'hero'].flatMap(perEntity),
      ].sort(),
    );
  });

  it('is deterministic and pure', async () => {
    const project = await fixtureProject();
    const a = emitServer(project, defaultEmitOptions);
    const b = emitServer(structuredClone(project), defaultEmitOptions);
    expect(b).toEqual(a);
    const custom = emitServer(project, { ...defaultEmitOptions, runtimeServer: '@acme/runtime' });
    const resolver = custom.find((f) => f.path.endsWith('space.resolver.ts'))!.content;
    expect(resolver).toContain("from '@acme/runtime'");
    expect(resolver).not.toContain('trackhub-gen/runtime/server');
  });

  it('names the GraphQL API after the entity and never exposes ignored or tenant fields', () => {
    const file = (p: string) => emitted.files.find((f) => f.path === p)!.content;
    const model = file('server/generated/checklist-item/checklist-item.model.ts');
    expect(model).toContain("@ObjectType('ChecklistItem')");
    expect(model).toContain("@ObjectType('ChecklistItemPage')");
    expect(model).toContain("@InputType('ChecklistItemCreateInput')");
    expect(model).toContain("@InputType('ChecklistItemUpdateInput')");
    const resolver = file('server/generated/checklist-item/checklist-item.resolver.ts');
    for (const name of ['checklistItem', 'checklistItems', 'createChecklistItem', 'updateChecklistItem', 'deleteChecklistItem']) {
      expect(resolver).toContain(`name: '${name}'`);
    }
    const space = file('server/generated/space/space.model.ts');
    expect(space).not.toContain('internalNotes');
    expect(space).not.toContain('tenantId');
    const update = space.slice(space.indexOf('SpaceUpdateInput'));
    expect(update).not.toContain('ownerId'); // readonly
    const descriptor = file('server/generated/space/space.descriptor.ts');
    expect(descriptor).toContain("{ name: 'internalNotes', kind: 'String', optional: true, hasDefault: false, access: 'ignore' }");
    const company = file('server/generated/company/company.descriptor.ts');
    expect(company).toContain("tenantField: 'workspaceId'");
    expect(company).toContain("conflict: 'serverWins'");
    const verifier = file('server/auth/token-verifier.ts');
    expect(verifier).toContain('Replace this with a real verifier');
  });

  it('type-checks under tsc --strict (NodeNext) with the runtime and the real PrismaClient', async () => {
    // A user file that hands the real generated PrismaClient to the user-owned AppModule.
    const { entry } = await ensurePrismaClient({
      schemaText: readFileSync(FIXTURE_SCHEMA, 'utf8'),
      schemaPath: FIXTURE_SCHEMA,
      outputDir: path.join(REPO_ROOT, '.cache/prisma/sqlite'),
    });
    const clientImport = path.relative(path.join(emitted.dir, 'server'), entry).replace(/\.ts$/, '.js').split(path.sep).join('/');
    writeFileSync(
      path.join(emitted.dir, 'server/prisma-check.ts'),
      [
        `import type { PrismaClient } from '${clientImport}';`,
        `import { AppModule } from './app.module.js';`,
        `import { main } from './main.js';`,
        `export function wire(prisma: PrismaClient) {`,
        `  void main(prisma);`,
        `  return AppModule.forRoot({ prisma });`,
        `}`,
        '',
      ].join('\n'),
    );
    const configPath = path.join(emitted.dir, 'tsconfig.json');
    const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    })!;
    expect(config.options.strict).toBe(true);
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const text = ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => emitted.dir,
      getNewLine: () => '\n',
    });
    expect(text).toBe('');
    // The runtime was checked through the package self-reference, not a copy.
    const files = program.getSourceFiles().map((f) => f.fileName);
    expect(files).toContain(path.join(REPO_ROOT, 'src/runtime/server/index.ts').split(path.sep).join('/'));
  });
});
