/**
 * Client emitter: file list, determinism, `tsc --strict` (NodeNext) over the
 * emitted code, and the emitted TrackHub client running against the STUB server.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as prettier from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emitClient } from '../../src/emitters/client/index.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import type { EmittedFile } from '../../src/emitters/types.js';
import { loadProject } from '../../src/model/build.js';
import type { ProjectIR } from '../../src/model/types.js';
import { isUuidV7 } from '../../src/runtime/client/node.js';
import type {
  EntityDescriptor,
  OfflineFirstService,
  SyncedRecord,
  TrackhubClient,
  TrackhubConnectionOptions,
} from '../../src/runtime/client/node.js';
import { miniProject } from './support/ir-fixture.js';
import { tempDir, TOKEN_A, URL } from './support/helpers.js';
import { StubSyncServer } from './support/stub-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the package so `trackhub-gen/runtime/client` resolves by self-reference, as in a user's project.
const OUT = join(ROOT, '.cache', `client-emitter-test-${process.pid}`);

/** The shape of the emitted module this test uses (it is loaded at run time). */
type AnyService = OfflineFirstService<
  SyncedRecord & Record<string, unknown>,
  Record<string, unknown>,
  Record<string, unknown>
>;
interface Generated {
  entityDescriptors: EntityDescriptor[];
  createClient(
    options: TrackhubConnectionOptions,
  ): TrackhubClient & Record<'spaces' | 'groups' | 'checklists' | 'checklistItems', AnyService>;
}
interface GroupModel {
  name: string;
  space: { fetch(): Promise<{ name: string } | null> };
}

let fixture: ProjectIR;
let files: EmittedFile[];

function write(dir: string, emitted: EmittedFile[]): void {
  for (const file of emitted) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
}

beforeAll(async () => {
  fixture = await loadProject(join(ROOT, 'fixtures/trackhub/schema.prisma'));
  files = emitClient(fixture, defaultEmitOptions);
  rmSync(OUT, { recursive: true, force: true });
  write(join(OUT, 'trackhub'), files);
  write(join(OUT, 'mini'), emitClient(miniProject, defaultEmitOptions));
});

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('client emitter', () => {
  it('emits the client files for the fixture: generated code, plus one user-owned hooks file per entity', () => {
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        ...['checklist', 'checklist-item', 'company', 'group', 'hero', 'project', 'space', 'task', 'task-note'].map((k) => `client/hooks/${k}.hooks.ts`),
        'client/generated/database.ts',
        'client/generated/descriptors.ts',
        'client/generated/enums.ts',
        'client/generated/index.ts',
        'client/generated/migrations.ts',
        'client/generated/operation-sources.ts',
        'client/generated/schema.ts',
        'client/schema.snapshot.json',
        ...['Checklist', 'ChecklistItem', 'Company', 'Group', 'Hero', 'Project', 'Space', 'Task', 'TaskNote'].flatMap((n) => [
          `client/generated/models/${n}.ts`,
          `client/generated/services/OfflineFirst${n}Service.ts`,
        ]),
      ].sort(),
    );
    for (const file of files) expect(file.owner, file.path).toBe(file.path.startsWith('client/hooks/') ? 'user' : 'generator');
  });

  it('is deterministic and emits code prettier can parse', async () => {
    expect(emitClient(fixture, defaultEmitOptions)).toEqual(files);
    for (const file of files) await prettier.format(file.content, { parser: file.path.endsWith('.json') ? 'json' : 'typescript' });
  });

  it('maps fields to columns, leaves @sync.ignore out and keeps @sync.readonly create-only', () => {
    const text = (path: string): string => files.find((f) => f.path === `client/generated/${path}`)!.content;
    const schema = text('schema.ts');
    expect(schema).toContain("name: 'spaces'");
    expect(schema).toContain("{ name: 'due_at', type: 'number', isOptional: true }");
    expect(schema).toContain("{ name: 'metadata', type: 'string', isOptional: true }");
    expect(schema).toContain("{ name: 'space_id', type: 'string', isOptional: true, isIndexed: true }");
    expect(schema).toContain("{ name: 'archived', type: 'boolean' }");
    for (const table of ['operation_queue', 'sync_state', 'uploads', 'conflicts']) expect(schema).toContain(`name: '${table}'`);
    expect(schema).not.toContain('internal_notes');
    for (const entity of fixture.entities) {
      const table = new RegExp(`name: '${entity.table}',\\s+columns: \\[([^\\]]*)\\]`).exec(schema)![1];
      expect(table, entity.table).not.toMatch(/name: '(created_at|updated_at|tenant_id|workspace_id)'/);
    }
    const service = text('services/OfflineFirstSpaceService.ts');
    expect(service).not.toContain('internalNotes');
    const [, create] = /interface SpaceCreateInput \{([^}]*)\}/.exec(service)!;
    const [, update] = /interface SpaceUpdateInput \{([^}]*)\}/.exec(service)!;
    expect(create).toContain('ownerId: string;');
    expect(update).not.toContain('ownerId');
    // A typed helper per @sync.media field, only for media fields.
    expect(service).toContain('attachCoverUrl(\n    id: string,\n    file: string | Blob,\n    meta?: { contentType?: string },\n  ): Promise<string> {');
    expect(service).toContain("return this.attachFile(id, 'coverUrl', file, meta);");
    expect(text('services/OfflineFirstGroupService.ts')).not.toContain('attach');
    expect(text('descriptors.ts')).toContain(
      "{ name: 'ownerId', column: 'owner_id', kind: 'String', optional: false, access: 'readonly' }",
    );
    // Dependency order: parents before children.
    const order = /entityDescriptors: EntityDescriptor\[\] = \[([^\]]*)\]/
      .exec(text('descriptors.ts'))![1]!
      .match(/\w+Descriptor/g);
    expect(order!.indexOf('spaceDescriptor')).toBeLessThan(order!.indexOf('groupDescriptor'));
    expect(order!.indexOf('checklistDescriptor')).toBeLessThan(order!.indexOf('checklistItemDescriptor'));
  });

  it('renames members that would shadow WatermelonDB / client members', () => {
    const mini = emitClient(miniProject, defaultEmitOptions);
    const model = mini.find((f) => f.path.endsWith('models/Folder.ts'))!.content;
    expect(model).toContain("@field('collection') collectionValue!: string | null;");
    expect(model).toContain("@relation('folders', 'parent_id') parent!: Relation<Folder>;");
    expect(mini.find((f) => f.path.endsWith('models/Entity.ts'))!.content).toContain(
      'databaseValue!: Relation<Folder>',
    );
    expect(mini.find((f) => f.path.endsWith('database.ts'))!.content).toContain(
      'readonly entitiesService: OfflineFirstEntityService;',
    );
    expect(mini.some((f) => f.path.endsWith('enums.ts'))).toBe(false);
  });

  it('type-checks under tsc --strict with NodeNext resolution', () => {
    const tsconfig = {
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM'],
        types: ['node'],
        experimentalDecorators: true,
        useDefineForClassFields: false,
        noEmit: true,
        skipLibCheck: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
        noImplicitOverride: true,
        noImplicitReturns: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
      },
      include: ['trackhub/client/**/*.ts', 'mini/client/**/*.ts', 'usage.ts'],
    };
    writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    // Typed usage of the generated client: wrong field types must not compile (checked with @ts-expect-error).
    writeFileSync(
      join(OUT, 'usage.ts'),
      `import { createClient, SpaceKind } from './trackhub/client/generated/index.js';
import type { SpaceRecord } from './trackhub/client/generated/index.js';

export async function usage(): Promise<SpaceRecord> {
  const client = createClient({ tenantId: 't', token: 'dev:t:u', url: 'http://localhost/graphql', dbDir: ':memory:' });
  const space = await client.spaces.create({ name: 'n', ownerId: 'o', kind: SpaceKind.TEAM });
  const group = await client.groups.create({ name: 'g', spaceId: space.id });
  await client.checklists.create({ title: 't', dueAt: new Date(), metadata: { any: ['json'] } });
  // @ts-expect-error ownerId is read-only after create
  await client.spaces.update(space.id, { ownerId: 'x' });
  // @ts-expect-error kind is an enum
  await client.spaces.create({ name: 'n', ownerId: 'o', kind: 'NOPE' });
  const model = await client.groups.findModel(group.id);
  const parent = await model?.space.fetch();
  void parent?.name;
  await client.syncAll();
  return space;
}
`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', join(OUT, 'tsconfig.json')], {
        cwd: OUT,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    }
    expect(output).toBe('');
  });

  it('runs: the emitted client creates offline and syncs parent + child against the stub server', async () => {
    const generated = (await import(join(OUT, 'trackhub/client/generated/index.ts'))) as Generated;
    const server = new StubSyncServer(generated.entityDescriptors);
    const tmp = tempDir();
    try {
      const client = generated.createClient({
        tenantId: 'tenant-a',
        token: TOKEN_A,
        url: URL,
        fetch: server.fetch,
        dbDir: tmp.dir,
      });
      const space = await client.spaces.create({ name: 'Offline', ownerId: 'u1' });
      const group = await client.groups.create({ name: 'G', spaceId: space.id });
      const checklist = await client.checklists.create({
        title: 'C',
        spaceId: space.id,
        dueAt: new Date(0),
        metadata: { a: 1 },
      });
      await client.checklistItems.create({ label: 'i', checklistId: checklist.id, weight: 0.5 });
      expect(isUuidV7(space.id)).toBe(true);
      expect(space).toMatchObject({ kind: 'TEAM', position: 0, coverUrl: null, description: null });
      const model = (await client.groups.findModel(group.id)) as GroupModel | null;
      expect(model?.name).toBe('G');
      expect((await model!.space.fetch())?.name).toBe('Offline');

      const report = await client.syncAll();
      expect(report.entities.map((e) => e.entity)).toEqual(fixture.entities.map((e) => e.name));
      expect(report.entities.reduce((n, e) => n + e.succeeded, 0)).toBe(4);
      const serverSpace = server.table('tenant-a', 'Space')[0]!;
      expect(server.table('tenant-a', 'Group')[0]!.data.spaceId).toBe(serverSpace.id);
      expect(server.table('tenant-a', 'ChecklistItem')[0]!.data.checklistId).toBe(
        server.table('tenant-a', 'Checklist')[0]!.id,
      );
      expect(await client.groups.get(group.id)).toMatchObject({
        spaceId: space.id,
        version: 1,
        serverId: server.table('tenant-a', 'Group')[0]!.id,
      });
      expect(await client.queueSize()).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });
});
