/**
 * The EMITTED fixture server, booted over HTTP (NestJS + Apollo + real Prisma
 * on SQLite): auth, sync round trip, CRUD, errors.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { INestApplication } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emitGraphql } from '../../src/emitters/graphql/index.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { createTrackhubServer } from '../../src/runtime/server/index.js';
import { emitFixtureServer, type EmittedServer } from './support/emit.js';
import { fixtureProject } from './support/fixture.js';
import { createFixtureDatabase, type TestDatabase } from './support/prisma.js';
import { SYNC_PULL as PULL, SYNC_PUSH as PUSH } from '../support/operations.js';

// The copy of graphql NestJS uses (under vitest a plain import may load the other, ESM, build).
const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

let emitted: EmittedServer;
let db: TestDatabase;
let app: INestApplication;
let url: string;

interface GqlResponse {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; extensions?: Record<string, any> }>;
}

async function gql(query: string, variables: Record<string, unknown> = {}, token: string | null = 'dev:tenant-a:alice'): Promise<GqlResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResponse;
}


beforeAll(async () => {
  emitted = await emitFixtureServer('e2e');
  db = await createFixtureDatabase();
  const mod = (await import(pathToFileURL(path.join(emitted.dir, 'server/app.module.ts')).href)) as {
    AppModule: { forRoot(o: { prisma: unknown }): unknown };
  };
  app = await createTrackhubServer(mod.AppModule.forRoot({ prisma: db.prisma }) as never, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = `${await app.getUrl()}/graphql`.replace('[::1]', '127.0.0.1');
});

afterAll(async () => {
  await app?.close();
  await db?.close();
  emitted?.remove();
});

describe('emitted fixture server over HTTP', () => {
  it('serves the same schema as the SDL emitter (graphql/schema.graphql)', async () => {
    const served = graphql.printSchema(graphql.lexicographicSortSchema(app.get(GraphQLSchemaHost).schema));
    const sdl = emitGraphql(await fixtureProject(), defaultEmitOptions).find((f) => f.path === 'graphql/schema.graphql')!.content;
    // graphql-scalars documents its scalars; the SDL emitter does not. Everything else must match.
    const normalize = (text: string) =>
      text
        .replace(/"""[\s\S]*?"""\n(?=scalar )/g, '')
        .replace(/ @specifiedBy\([^)]*\)/g, '')
        .trim();
    // The emitted file breaks long argument lists as prettier does: compare graphql-js prints of both.
    const reprinted = graphql.printSchema(graphql.lexicographicSortSchema(graphql.buildSchema(sdl)));
    expect(normalize(served)).toBe(normalize(reprinted));
  });

  it('requires a token on every resolver (UNAUTHENTICATED)', async () => {
    for (const token of [null, 'garbage', 'dev:only-tenant']) {
      const pull = await gql(PULL, { entity: 'Space' }, token);
      expect(pull.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const crud = await gql('{ spaces { items { id } } }', {}, token);
      expect(crud.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const create = await gql('mutation { createHero(input: { name: "x" }) { id } }', {}, token);
      expect(create.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('pushes and pulls: round trip, idempotent replay, tombstones, tenant isolation', async () => {
    const spaceClientId = randomUUID();
    const groupClientId = randomUUID();
    const start = await gql(PULL, { entity: 'Space' });
    expect(start.errors).toBeUndefined();
    const since = start.data!.syncPull.lastSyncAt as string;

    const pushed = await gql(PUSH, {
      entity: 'Space',
      items: [{ clientId: spaceClientId, name: 'Offline space', ownerId: 'alice', kind: 'PERSONAL', tenantId: 'tenant-b' }],
    });
    expect(pushed.errors).toBeUndefined();
    const [space] = pushed.data!.syncPush;
    expect(space).toMatchObject({ clientId: spaceClientId, success: true, version: 1, errorCode: null, conflict: null });
    expect(space.updatedAt).toMatch(/Z$/);

    // A child created offline that points at its parent by clientId.
    const group = (await gql(PUSH, { entity: 'Group', items: [{ clientId: groupClientId, name: 'G', spaceId: spaceClientId }] })).data!
      .syncPush[0];
    expect(group.success).toBe(true);

    const replay = (await gql(PUSH, { entity: 'Space', items: [{ clientId: spaceClientId, name: 'Offline space', ownerId: 'alice' }] })).data!
      .syncPush[0];
    expect(replay).toMatchObject({ success: true, id: space.id, version: 1 });

    const pulled = await gql(PULL, { entity: 'Space', since });
    expect(pulled.data!.syncPull.items).toEqual([
      expect.objectContaining({ id: space.id, clientId: spaceClientId, name: 'Offline space', kind: 'PERSONAL', version: 1, deletedAt: null }),
    ]);
    expect(pulled.data!.syncPull.items[0]).not.toHaveProperty('internalNotes');
    expect(pulled.data!.syncPull.items[0]).not.toHaveProperty('tenantId');
    const groups = await gql(PULL, { entity: 'Group', since });
    expect(groups.data!.syncPull.items[0]).toMatchObject({ id: group.id, spaceId: space.id });

    const otherTenant = await gql(PULL, { entity: 'Space', since }, 'dev:tenant-b:bob');
    expect(otherTenant.data!.syncPull.items).toEqual([]);

    // Group.space is required with no onDelete (Prisma's default Restrict): the group goes first.
    const restricted = (await gql(PUSH, { entity: 'Space', items: [{ id: space.id, version: 1, deletedAt: new Date().toISOString() }] })).data!
      .syncPush[0];
    expect(restricted).toMatchObject({ success: false, errorCode: 'DELETE_RESTRICTED' });
    const groupGone = (await gql(PUSH, { entity: 'Group', items: [{ id: group.id, version: 1, deletedAt: new Date().toISOString() }] })).data!
      .syncPush[0];
    expect(groupGone).toMatchObject({ success: true, version: 2 });
    const del = (await gql(PUSH, { entity: 'Space', items: [{ id: space.id, version: 1, deletedAt: new Date().toISOString() }] })).data!
      .syncPush[0];
    expect(del).toMatchObject({ success: true, version: 2 });
    const afterDelete = await gql(PULL, { entity: 'Space', since: pulled.data!.syncPull.lastSyncAt });
    expect(afterDelete.data!.syncPull.items).toEqual([expect.objectContaining({ id: space.id, version: 2, deletedAt: expect.stringMatching(/Z$/) })]);
  });

  it('reports conflicts per item and errors per request', async () => {
    const c = (await gql(PUSH, { entity: 'Company', items: [{ clientId: randomUUID(), name: 'ACME' }] })).data!.syncPush[0];
    await gql(PUSH, { entity: 'Company', items: [{ id: c.id, version: 1, name: 'server' }] });
    const stale = (await gql(PUSH, { entity: 'Company', items: [{ id: c.id, version: 1, name: 'device' }, 'junk'] })).data!.syncPush;
    expect(stale[0]).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2, serverData: { name: 'server' } } });
    expect(stale[1]).toMatchObject({ success: false, errorCode: 'VALIDATION_FAILED' });

    const unknown = await gql(PULL, { entity: 'Nope' });
    expect(unknown.errors?.[0].extensions?.code).toBe('UNKNOWN_ENTITY');
    expect(unknown.errors?.[0].message).toContain('ChecklistItem');
    const limit = await gql(PULL, { entity: 'Space', limit: 5000 });
    expect(limit.errors?.[0].extensions?.code).toBe('INVALID_LIMIT');
    const big = await gql(PUSH, {
      entity: 'Hero',
      items: Array.from({ length: 1001 }, () => ({ clientId: randomUUID(), name: 'h' })),
    });
    expect(big.errors?.[0].extensions?.code).toBe('BATCH_TOO_LARGE');
    expect(await db.prisma.hero.count()).toBe(0);
  });

  it('accepts a full 1,000-item batch (body limit raised)', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({
      clientId: randomUUID(),
      name: `hero ${i}`,
      profile: { bio: 'x'.repeat(200) },
    }));
    const res = await gql(PUSH, { entity: 'Hero', items });
    expect(res.errors).toBeUndefined();
    expect(res.data!.syncPush.every((r: { success: boolean }) => r.success)).toBe(true);
    const page = await gql(PULL, { entity: 'Hero', limit: 1000 });
    expect(page.data!.syncPull.items).toHaveLength(1000);
  });

  it('serves typed online CRUD', async () => {
    const created = await gql(
      `mutation($input: ChecklistCreateInput!) { createChecklist(input: $input) { id clientId version title status dueAt metadata deletedAt } }`,
      { input: { clientId: randomUUID(), title: 'Online', status: 'DONE', dueAt: '2031-05-06T07:08:09.010Z', metadata: { a: [1] } } },
    );
    expect(created.errors).toBeUndefined();
    const cl = created.data!.createChecklist;
    expect(cl).toMatchObject({ version: 1, title: 'Online', status: 'DONE', dueAt: '2031-05-06T07:08:09.010Z', metadata: { a: [1] }, deletedAt: null });

    const got = await gql(`query($id: ID!) { checklist(id: $id) { id title } }`, { id: cl.id });
    expect(got.data!.checklist).toEqual({ id: cl.id, title: 'Online' });
    const foreign = await gql(`query($id: ID!) { checklist(id: $id) { id } }`, { id: cl.id }, 'dev:tenant-b:bob');
    expect(foreign.data!.checklist).toBeNull();

    const list = await gql(`{ checklists(limit: 1) { items { id } nextCursor } }`);
    expect(list.data!.checklists.items).toHaveLength(1);

    const updated = await gql(
      `mutation($id: ID!, $v: Int!, $input: ChecklistUpdateInput!) { updateChecklist(id: $id, expectedVersion: $v, input: $input) { version title } }`,
      { id: cl.id, v: 1, input: { title: 'Renamed' } },
    );
    expect(updated.data!.updateChecklist).toEqual({ version: 2, title: 'Renamed' });
    const item = await gql(
      `mutation($input: ChecklistItemCreateInput!) { createChecklistItem(input: $input) { id label done position weight } }`,
      { input: { label: 'step', checklistId: cl.id, weight: 0.5 } },
    );
    expect(item.data!.createChecklistItem).toMatchObject({ label: 'step', done: false, position: 0, weight: 0.5 });

    const stale = await gql(`mutation($id: ID!) { deleteChecklist(id: $id, expectedVersion: 1) { id } }`, { id: cl.id });
    expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', current: { title: 'Renamed', version: 2 } });
    const deleted = await gql(`mutation($id: ID!) { deleteChecklist(id: $id, expectedVersion: 2) { version deletedAt } }`, { id: cl.id });
    expect(deleted.data!.deleteChecklist.version).toBe(3);
    expect(deleted.data!.deleteChecklist.deletedAt).toMatch(/Z$/);
    // ChecklistItem.checklist is onDelete: Cascade: the item went with it.
    const gone = await gql(`query($id: ID!) { checklistItem(id: $id) { id } }`, { id: item.data!.createChecklistItem.id });
    expect(gone.data!.checklistItem).toBeNull();
  });
});
