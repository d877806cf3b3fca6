/**
 * The server emitter: file list, ownership, determinism, a `tsc --strict`
 * (NodeNext, decorators) type-check of the emitted code together with the
 * runtime it imports and the real generated PrismaClient; and an edge schema
 * (global entity, no enums, readonly-only entity) emitted, checked and booted.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emitServer } from '../../src/emitters/server/index.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { loadProject } from '../../src/model/build.js';
import { createPrismaClientFor, ensureExampleClient } from '../../src/prisma/client-factory.js';
import { CLIENT_ENTRY } from '../../src/prisma/generate-client.js';
import { createTrackhubServer } from '../../src/runtime/server/index.js';
import { emitFixtureServer, emitProjectServer, typecheck, type EmittedServer } from './support/emit.js';
import { fixtureProject } from './support/fixture.js';
import { REPO_ROOT } from './support/prisma.js';

const EDGE_SCHEMA = fileURLToPath(new URL('./fixtures/edge.prisma', import.meta.url));

describe('emitServer (fixture)', () => {
  let emitted: EmittedServer;
  beforeAll(async () => {
    emitted = await emitFixtureServer('tsc');
  });
  afterAll(() => emitted?.remove());

  it('emits the expected files with the right owners', () => {
    const listing = emitted.files.map((f) => `${f.owner} ${f.path}`);
    const perEntity = (kebab: string) =>
      ['descriptor', 'model', 'module', 'resolver', 'service'].map((k) => `generator server/generated/${kebab}/${kebab}.${k}.ts`);
    expect(listing.sort()).toEqual(
      [
        'user server/app.module.ts',
        'user server/auth/token-verifier.ts',
        'user server/main.ts',
        ...['space', 'group', 'checklist', 'checklist-item', 'company', 'hero', 'project', 'task', 'task-note'].map((k) => `user server/hooks/${k}.hooks.ts`),
        'generator server/generated/enums.ts',
        'generator server/generated/runtime.ts',
        'generator server/generated/index.ts',
        'generator server/generated/sync/sync.registry.ts',
        'generator server/generated/trackhub.module.ts',
        ...['space', 'group', 'checklist', 'checklist-item', 'company', 'hero', 'project', 'task', 'task-note'].flatMap(perEntity),
      ].sort(),
    );
  });

  it('registers the upload routes when an entity has a @sync.media field', () => {
    const root = emitted.files.find((f) => f.path === 'server/generated/trackhub.module.ts')!.content;
    expect(root).toContain('controllers: [...trackhubControllers(core), TrackhubMediaController]');
    expect(root).toContain('{ provide: TrackhubMedia, useValue: new TrackhubMedia(core, options.media) }');
  });

  it('is deterministic and pure', async () => {
    const project = await fixtureProject();
    const a = emitServer(project, defaultEmitOptions);
    const b = emitServer(structuredClone(project), defaultEmitOptions);
    expect(b).toEqual(a);
    const custom = emitServer(project, { ...defaultEmitOptions, runtimeServer: '@acme/runtime' });
    const resolver = custom.find((f) => f.path.endsWith('space.resolver.ts'))!.content;
    expect(resolver).toContain("from '@acme/runtime'");
    expect(custom.some((f) => f.content.includes('trackhub-gen/runtime/server'))).toBe(false);
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
    expect(space.slice(space.indexOf('SpaceUpdateInput'))).not.toContain('ownerId'); // readonly
    const descriptor = file('server/generated/space/space.descriptor.ts');
    expect(descriptor).toContain("{ name: 'internalNotes', kind: 'String', optional: true, hasDefault: false, access: 'ignore' }");
    const company = file('server/generated/company/company.descriptor.ts');
    expect(company).toContain("tenantField: 'workspaceId'");
    expect(company).toContain("conflict: 'serverWins'");
    expect(file('server/auth/token-verifier.ts')).toContain('export const verifyToken: TokenVerifier = verifierFromEnv();');
  });

  it('type-checks under tsc --strict (NodeNext) with the runtime and the real PrismaClient', async () => {
    // A user file that hands the real generated PrismaClient to the user-owned AppModule and main().
    const { dir } = await ensureExampleClient('sqlite');
    const clientImport = path
      .relative(path.join(emitted.dir, 'server'), path.join(dir, CLIENT_ENTRY))
      .replace(/\.ts$/, '.js')
      .split(path.sep)
      .join('/');
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
    const { diagnostics, files } = typecheck(emitted.dir);
    expect(diagnostics).toBe('');
    // The runtime was checked through the package self-reference, against the shipped types (dist/).
    expect(files).toContain(path.join(REPO_ROOT, 'dist/runtime/server/index.d.ts').split(path.sep).join('/'));
    expect(files.some((f) => f.endsWith(`/sqlite/${CLIENT_ENTRY}`))).toBe(true);
  });
});

describe('emitServer (edge schema: global entity, no enums, readonly-only entity) booted', () => {
  let emitted: EmittedServer;
  let app: INestApplication;
  let url: string;
  let tmp: string;
  let disconnect: () => Promise<void>;

  beforeAll(async () => {
    emitted = emitProjectServer(await loadProject(EDGE_SCHEMA), 'edge');
    tmp = mkdtempSync(path.join(os.tmpdir(), 'trackhub-edge-'));
    const handle = await createPrismaClientFor(readFileSync(EDGE_SCHEMA, 'utf8'), 'sqlite', path.join(tmp, 'edge.db'), { reset: true });
    disconnect = handle.disconnect;
    const { AppModule } = (await import(pathToFileURL(path.join(emitted.dir, 'server/app.module.ts')).href)) as {
      AppModule: { forRoot(o: { prisma: unknown }): never };
    };
    app = await createTrackhubServer(AppModule.forRoot({ prisma: handle.prisma }), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/graphql`;
  });

  afterAll(async () => {
    await app?.close();
    await disconnect?.();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    emitted?.remove();
  });

  async function gql(query: string, variables: Record<string, unknown>, tenant: string) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:u` },
      body: JSON.stringify({ query, variables }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  }

  it('emits no enums file and no update mutation for an entity without updatable fields', () => {
    const paths = emitted.files.map((f) => f.path);
    expect(paths).not.toContain('server/generated/enums.ts');
    const note = emitted.files.find((f) => f.path.endsWith('note.resolver.ts'))!.content;
    expect(note).not.toContain('updateNote');
    expect(note).toContain("name: 'deleteNote'");
    const tag = emitted.files.find((f) => f.path.endsWith('tag.model.ts'))!.content;
    expect(tag).toContain('comment terminator');
    expect(tag).not.toMatch(/a \*\/ comment/);
    // No @sync.media field: no upload routes.
    expect(emitted.files.find((f) => f.path.endsWith('trackhub.module.ts'))!.content).not.toContain('TrackhubMedia');
  });

  it('type-checks under tsc --strict', () => {
    expect(typecheck(emitted.dir).diagnostics).toBe('');
  });

  it('serves a global entity to every tenant and links a tenant record to it by clientId', async () => {
    const PUSH = `mutation($entity: String!, $items: [JSON!]!) { syncPush(entity: $entity, items: $items) { id success errorCode errorMessage version } }`;
    const PULL = `query($entity: String!) { syncPull(entity: $entity) { items hasMore } }`;
    const tagClientId = randomUUID();
    const [tag] = (await gql(PUSH, { entity: 'Tag', items: [{ clientId: tagClientId, label: 'shared' }] }, 't1')).data.syncPush;
    expect(tag.success).toBe(true);
    const seenBy2 = (await gql(PULL, { entity: 'Tag' }, 't2')).data.syncPull.items;
    expect(seenBy2).toEqual([expect.objectContaining({ id: tag.id, label: 'shared' })]);

    const [note] = (await gql(PUSH, { entity: 'Note', items: [{ clientId: randomUUID(), authorId: 'u', tagId: tagClientId }] }, 't2')).data
      .syncPush;
    expect(note.success).toBe(true);
    const notes = (await gql(PULL, { entity: 'Note' }, 't2')).data.syncPull.items;
    expect(notes).toEqual([expect.objectContaining({ id: note.id, tagId: tag.id, authorId: 'u' })]);
    expect((await gql(PULL, { entity: 'Note' }, 't1')).data.syncPull.items).toEqual([]);

    // Readonly fields cannot change through sync: an update carrying only them changes nothing but the version.
    const [upd] = (await gql(PUSH, { entity: 'Note', items: [{ id: note.id, version: 1, authorId: 'someone-else' }] }, 't2')).data.syncPush;
    expect(upd).toMatchObject({ success: true, version: 2 });
    const after = (await gql(`query($id: ID!) { note(id: $id) { authorId version } }`, { id: note.id }, 't2')).data.note;
    expect(after).toEqual({ authorId: 'u', version: 2 });
  });
});
