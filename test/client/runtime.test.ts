/**
 * Client runtime on real WatermelonDB (SQLite adapter on better-sqlite3, real
 * files in a temp dir) against the in-process STUB server (support/stub-server.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Q } from '@nozbe/watermelondb';
import { sanitizedRaw } from '@nozbe/watermelondb/RawRecord/index.js';

import {
  coalesce,
  foldable,
  foldChanges,
  isUuidV7,
  NetworkError,
  refusedInsert,
  type FetchLike,
  tenantDatabaseName,
  tenantDbName,
} from '../../src/runtime/client/node.js';
import type { OperationRecord } from '../../src/runtime/client/node.js';
import { LOOKUP_CHUNK } from '../../src/runtime/client/queue.js';
import { fetchFirstPages, STREAMS_PER_REQUEST, streamKey } from '../../src/runtime/client/sync/first-pages.js';
import { serverColumns, serverRaw } from '../../src/runtime/client/sync/apply-remote.js';
import { insertStatements } from '../../src/runtime/client/sync/raw-insert.js';
import type { WireItem } from '../../src/runtime/client/codec.js';
import { AppClient, Note, Space, entities, noteDescriptor, spaceDescriptor } from './support/app.js';
import { closeNodeDatabase, tempDir, TOKEN_A, URL } from './support/helpers.js';
import { StubSyncServer } from './support/stub-server.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function setup(
  options: {
    dbDir?: string;
    server?: StubSyncServer;
    tenant?: string;
    token?: string;
    pushBatchSize?: number;
    pullLimit?: number;
  } = {},
) {
  const server = options.server ?? new StubSyncServer(entities);
  let dbDir = options.dbDir;
  if (!dbDir) {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    dbDir = tmp.dir;
  }
  const client = new AppClient({
    tenantId: options.tenant ?? 'tenant-a',
    token: options.token ?? TOKEN_A,
    url: URL,
    fetch: server.fetch,
    dbDir,
    ...(options.pushBatchSize ? { pushBatchSize: options.pushBatchSize } : {}),
    ...(options.pullLimit ? { pullLimit: options.pullLimit } : {}),
  });
  return { client, server, dbDir };
}

/** Records the SQL statements the pull's raw-insert path runs (adapter.unsafeExecute({ sqls })). */
function spyOnRawInserts(client: AppClient): string[] {
  const seen: string[] = [];
  const adapter = client.database.adapter as unknown as { unsafeExecute(work: { sqls?: [string, unknown[]][] }): Promise<void> };
  const original = adapter.unsafeExecute.bind(adapter);
  adapter.unsafeExecute = (work) => {
    for (const [sql] of work.sqls ?? []) if (sql.startsWith('insert into')) seen.push(sql);
    return original(work);
  };
  return seen;
}

/** What WatermelonDB hands its adapter for a query (`Query.serialize()`), as far as these tests read it. */
interface SerializedQuery {
  table: string;
  description: { where: Array<{ left?: string }> };
}

async function ops(client: AppClient): Promise<OperationRecord[]> {
  return client.queue.all();
}

describe('database', () => {
  it('is one file per tenant named trackhub_db_{tenantId}', async () => {
    expect(tenantDatabaseName('acme')).toBe('trackhub_db_acme');
    expect(tenantDbName('acme', '/data/')).toBe('/data/trackhub_db_acme.db');
    expect(tenantDbName('acme', ':memory:')).toBe(':memory:');
    expect(() => tenantDatabaseName('../etc')).toThrow(/Invalid tenant id/);
    const { client, dbDir } = setup();
    await client.spaces.create({ name: 'x', ownerId: 'u1' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${dbDir}/trackhub_db_tenant-a.db`)).toBe(true);
  });
});

describe('models and records', () => {
  it('round-trips every field kind through the decorated model and the plain record', async () => {
    const { client } = setup();
    const space = await client.spaces.create({ name: 'Home', ownerId: 'u1' });
    const due = new Date('2030-01-02T03:04:05.678Z');
    const note = await client.notes.create({
      title: 'Milk',
      weight: 1.5,
      dueAt: due,
      metadata: { tags: ['a'], n: 2 },
      spaceId: space.id,
    });

    // Defaults applied on the device.
    expect(space).toMatchObject({
      name: 'Home',
      kind: 'TEAM',
      position: 0,
      ownerId: 'u1',
      serverId: null,
      version: 0,
      clientId: space.id,
    });
    expect(note).toMatchObject({
      title: 'Milk',
      done: false,
      weight: 1.5,
      dueAt: due,
      metadata: { tags: ['a'], n: 2 },
      spaceId: space.id,
    });

    // Read back through the decorators (this fails silently without useDefineForClassFields: false).
    const model = (await client.notes.findModel(note.id)) as Note;
    expect(model).toBeInstanceOf(Note);
    expect(model.title).toBe('Milk');
    expect(model.done).toBe(false);
    expect(model.weight).toBe(1.5);
    expect(model.dueAt).toEqual(due);
    expect(model.metadata).toEqual({ tags: ['a'], n: 2 });
    expect(model.spaceId).toBe(space.id);
    const parent = (await model.space.fetch()) as Space;
    expect(parent.name).toBe('Home');
    expect(parent.ownerId).toBe('u1');

    const updated = await client.notes.update(note.id, { done: true, dueAt: null, metadata: [1, 2] });
    expect(updated).toMatchObject({ done: true, dueAt: null, metadata: [1, 2] });
    const again = await client.notes.get(note.id);
    expect(again).toEqual(updated);
  });

  it('validates inputs and refuses read-only fields on update', async () => {
    const { client } = setup();
    await expect(client.spaces.create({ name: 'x' } as never)).rejects.toThrow(/ownerId is required/);
    await expect(client.spaces.create({ name: 'x', ownerId: 'u', kind: 'NOPE' as never })).rejects.toThrow(
      /one of PERSONAL, TEAM/,
    );
    const s = await client.spaces.create({ name: 'x', ownerId: 'u' });
    await expect(client.spaces.update(s.id, { ownerId: 'other' } as never)).rejects.toThrow(/read-only/);
    await expect(client.spaces.update('missing', { name: 'y' })).rejects.toThrow(/not found/);
  });

  it('a record marked deleted is not found by update, updateMany or delete: from the record cache, and after a restart from the database', async () => {
    const { client, dbDir } = setup();
    const kept = await client.spaces.create({ name: 'kept', ownerId: 'u' });
    const gone = await client.spaces.create({ name: 'gone', ownerId: 'u' });
    // A tombstone, as a pulled delete writes it.
    const model = (await client.spaces.findModel(gone.id))!;
    await client.database.write(() => model.update((m) => m._setRaw('deleted_at', Date.now())));
    const refusals = async (c: AppClient) => {
      await expect(c.spaces.update(gone.id, { name: 'y' })).rejects.toThrow(/not found/);
      await expect(c.spaces.updateMany([{ id: kept.id, patch: { name: 'k2' } }, { id: gone.id, patch: { name: 'y' } }])).rejects.toThrow(/not found/);
      await expect(c.spaces.delete(gone.id)).rejects.toThrow(/not found/);
      // Nothing of the refused batch was written; the live record still updates.
      expect((await c.spaces.get(kept.id))?.name).not.toBe('k2');
      await c.spaces.update(kept.id, { name: `${(await c.spaces.get(kept.id))!.name}+` });
    };
    await refusals(client);
    await client.close();
    // A new session: nothing is in the record cache, the look-up reads the database.
    const reopened = setup({ dbDir }).client;
    await refusals(reopened);
    expect((await reopened.spaces.get(kept.id))?.name).toBe('kept++');
    await reopened.close();
  });

  it('mints UUID v7 ids, for service creates and for any WatermelonDB create', async () => {
    const { client } = setup();
    const a = await client.spaces.create({ name: 'a', ownerId: 'u' });
    const b = await client.spaces.create({ name: 'b', ownerId: 'u' });
    expect(isUuidV7(a.id)).toBe(true);
    expect(isUuidV7(b.id)).toBe(true);
    expect(a.id < b.id).toBe(true); // time-ordered
    const raw = await client.database.write(() =>
      client.database.get<Space>('spaces').create((s) => {
        s.name = 'direct';
        s.ownerId = 'u';
      }),
    );
    expect(isUuidV7(raw.id)).toBe(true);
    for (const op of await ops(client)) expect(isUuidV7(op.id)).toBe(true);
  });

  it('list / observe see only live records and follow changes', async () => {
    const { client } = setup();
    const seen: string[][] = [];
    const sub = client.spaces.observe(Q.sortBy('name', Q.asc)).subscribe((rows) => seen.push(rows.map((r) => r.name)));
    const a = await client.spaces.create({ name: 'a', ownerId: 'u' });
    await client.spaces.create({ name: 'b', ownerId: 'u' });
    await client.spaces.update(a.id, { name: 'c' });
    await client.spaces.delete(a.id);
    await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
    expect(seen[seen.length - 1]).toEqual(['b']);
    expect(seen.some((s) => s.includes('c'))).toBe(true);
    expect((await client.spaces.list()).map((s) => s.name)).toEqual(['b']);
    expect(await client.spaces.get(a.id)).toBeNull();
  });
});

describe('operation queue', () => {
  it('coalesces (pure rules)', () => {
    expect(coalesce(null, { operation: 'insert', payload: { a: 1 } })).toEqual({ kind: 'append' });
    expect(
      coalesce({ operation: 'insert', payload: { a: 1, b: 1 } }, { operation: 'update', payload: { b: 2 } }),
    ).toEqual({
      kind: 'replace',
      operation: 'insert',
      payload: { a: 1, b: 2 },
    });
    expect(coalesce({ operation: 'insert', payload: {} }, { operation: 'delete', payload: {} })).toEqual({
      kind: 'cancel',
    });
    expect(coalesce({ operation: 'update', payload: { a: 1 } }, { operation: 'update', payload: { b: 2 } })).toEqual({
      kind: 'replace',
      operation: 'update',
      payload: { a: 1, b: 2 },
    });
    expect(coalesce({ operation: 'update', payload: { a: 1 } }, { operation: 'delete', payload: {} })).toMatchObject({
      operation: 'delete',
    });
    expect(
      foldChanges([
        { operation: 'insert', payload: { a: 1 } },
        { operation: 'update', payload: { a: 2 } },
        { operation: 'delete', payload: {} },
      ]),
    ).toBeNull();
  });

  it('finds the waiting operations of more records than one look-up query takes (one pass) exactly as of a few', async () => {
    const { client } = setup();
    const n = 2 * LOOKUP_CHUNK + 20;
    const made = await client.spaces.createMany(Array.from({ length: n }, (_, i) => ({ name: `s${i}`, ownerId: 'u' })));
    const other = await client.notes.create({ title: 'not a space', spaceId: made[0]!.id });
    // Every second space: its waiting insert; the rest, and the note, are not asked for.
    const asked = made.filter((_, i) => i % 2 === 0).map((r) => r.id);
    expect(asked.length).toBeGreaterThan(LOOKUP_CHUNK);
    const many = await client.queue.openFor('Space', asked);
    expect(many.map((op) => op.entityId)).toEqual(asked);
    const few = await client.queue.openFor('Space', asked.slice(0, 3));
    expect(few.map((op) => op.entityId)).toEqual(asked.slice(0, 3));
    expect(await client.queue.openFor('Space', [other.id])).toEqual([]);
    expect(await client.queue.openFor('Space', [])).toEqual([]);

    // updateMany of them all coalesces each change into its record's waiting insert.
    await client.spaces.updateMany(made.map((r, i) => ({ id: r.id, patch: { position: i + 1 } })));
    const queued = (await ops(client)).filter((op) => op.entity === 'Space');
    expect(queued).toHaveLength(n);
    expect(queued.every((op) => op.operation === 'insert')).toBe(true);
    expect(queued.map((op) => op.payload.position)).toEqual(made.map((_, i) => i + 1));
  });

  it('writes the record and its operation atomically, and coalesces create + updates into one create', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    expect(await ops(client)).toHaveLength(1);
    await client.spaces.update(s.id, { name: 'b' });
    await client.spaces.update(s.id, { position: 3 });
    const queued = await ops(client);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.operation).toBe('insert');
    expect(queued[0]!.payload).toEqual({ name: 'b', kind: 'TEAM', position: 3, ownerId: 'u' });
    expect(queued[0]!.status).toBe('pending');

    await client.syncAll();
    const pushes = server.requests.filter((r) => r.field === 'syncPush');
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.variables.items).toEqual([
      { name: 'b', kind: 'TEAM', position: 3, ownerId: 'u', clientId: s.id, updatedAt: expect.any(String) },
    ]);
    expect(await ops(client)).toHaveLength(0);
  });

  it('create then delete sends nothing', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    await client.spaces.update(s.id, { name: 'b' });
    await client.spaces.delete(s.id);
    expect(await ops(client)).toHaveLength(0);
    expect(await client.database.get('spaces').query().fetchCount()).toBe(0);
    await client.syncAll();
    expect(server.requests.filter((r) => r.field === 'syncPush')).toHaveLength(0);
  });

  it('merges consecutive updates, and update then delete becomes one delete', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    await client.syncAll();
    await client.spaces.update(s.id, { name: 'b' });
    await client.spaces.update(s.id, { position: 7 });
    let queued = await ops(client);
    expect(queued.map((o) => [o.operation, o.payload])).toEqual([['update', { name: 'b', position: 7 }]]);
    await client.syncAll();
    const row = server.table('tenant-a', 'Space')[0]!;
    expect(row.data).toMatchObject({ name: 'b', position: 7 });
    expect(row.version).toBe(2);

    await client.spaces.update(s.id, { name: 'c' });
    await client.spaces.delete(s.id);
    queued = await ops(client);
    expect(queued.map((o) => o.operation)).toEqual(['delete']);
    await client.syncAll();
    const lastPush = server.requests.filter((r) => r.field === 'syncPush').pop()!;
    expect(lastPush.variables.items).toEqual([
      { clientId: s.id, id: row.id, version: 2, updatedAt: expect.any(String), deletedAt: expect.any(String) },
    ]);
    expect(row.deletedAt).not.toBeNull();
    expect(await client.database.get('spaces').query().fetchCount()).toBe(0);
  });

  it('a create that may have reached the server, then a delete, becomes a delete by clientId', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    // The server applies the push, but the answer is lost.
    server.beforeRequest = (req) => {
      if (req.field === 'syncPush') {
        (server as unknown as { handle(r: unknown): unknown }).handle(req);
        throw new Error('answer lost');
      }
    };
    await expect(client.syncAll()).rejects.toThrow(/answer lost/);
    server.beforeRequest = null;
    expect(server.table('tenant-a', 'Space')).toHaveLength(1);
    await client.spaces.delete(s.id);
    expect((await ops(client)).map((o) => o.operation)).toEqual(['delete']);
    await client.syncAll();
    const push = server.requests.filter((r) => r.field === 'syncPush').pop()!;
    expect(push.variables.items).toEqual([
      { clientId: s.id, updatedAt: expect.any(String), deletedAt: expect.any(String) },
    ]);
    expect(server.table('tenant-a', 'Space')[0]!.deletedAt).not.toBeNull();
    expect(await client.queueSize()).toBe(0);
    expect(await client.database.get('spaces').query().fetchCount()).toBe(0);
  });

  it('an update after a create whose answer was lost waits behind it (a replayed create does not apply changes)', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    server.beforeRequest = (req) => {
      if (req.field === 'syncPush') {
        (server as unknown as { handle(r: unknown): unknown }).handle(req);
        throw new Error('answer lost');
      }
    };
    await expect(client.syncAll()).rejects.toThrow(/answer lost/);
    server.beforeRequest = null;
    await client.spaces.update(s.id, { name: 'b' });
    expect((await ops(client)).map((o) => o.operation)).toEqual(['insert', 'update']);
    expect(coalesce({ operation: 'insert', payload: {}, maybeSent: true }, { operation: 'update', payload: {} })).toEqual({
      kind: 'append',
    });
    await client.syncAll();
    expect(server.table('tenant-a', 'Space').map((r) => [r.data.name, r.version])).toEqual([['b', 2]]);
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'b', version: 2 });
    expect(await client.queueSize()).toBe(0);
  });

  it('a change after an update whose answer was lost waits behind it (its base version would be stale)', () => {
    const sent = { operation: 'update' as const, payload: { name: 'b' }, maybeSent: true };
    expect(coalesce(sent, { operation: 'update', payload: { name: 'c' } })).toEqual({ kind: 'append' });
    expect(coalesce(sent, { operation: 'delete', payload: {} })).toEqual({ kind: 'append' });
    expect(foldable([sent, { operation: 'update', payload: { name: 'c' } }])).toBe(false);
    expect(foldable([{ ...sent, maybeSent: false }, { operation: 'update', payload: { name: 'c' } }])).toBe(true);
    expect(coalesce({ ...sent, maybeSent: false }, { operation: 'update', payload: { name: 'c' } })).toMatchObject({
      kind: 'replace',
      payload: { name: 'c' },
    });
  });

  it('tells an insert the server refused from one whose answer was lost or that a hook refused', () => {
    const op = (lastError: string | null, attempts = 1, operation: 'insert' | 'update' = 'insert') => ({ operation, attempts, lastError });
    expect(refusedInsert(op('VALIDATION_FAILED: projectId: no Project with id "x" in your tenant'))).toBe(true);
    expect(refusedInsert(op('gave up: UNIQUE_VIOLATION: code'))).toBe(true);
    expect(refusedInsert(op('fetch failed'))).toBe(false);
    expect(refusedInsert(op('interrupted while sending'))).toBe(false);
    expect(refusedInsert(op('No result for this item in the syncPush answer'))).toBe(false);
    expect(refusedInsert(op('gave up: REFUSED_BY_HOOK: offline only'))).toBe(false);
    expect(refusedInsert(op('VALIDATION_FAILED: x', 0))).toBe(false);
    expect(refusedInsert(op('NOT_FOUND: x', 1, 'update'))).toBe(false);
  });

  it('survives closing and reopening the same database file', async () => {
    const { client, server, dbDir } = setup();
    const s = await client.spaces.create({ name: 'kept', ownerId: 'u' });
    await client.notes.create({ title: 'n', spaceId: s.id });
    expect(await client.queueSize()).toBe(2);
    await client.close();
    closeNodeDatabase(client.database);

    const reopened = setup({ dbDir, server }).client;
    expect(await reopened.queueSize()).toBe(2);
    expect((await reopened.spaces.get(s.id))?.name).toBe('kept');
    const report = await reopened.syncAll();
    expect(report.entities.map((e) => [e.entity, e.succeeded])).toEqual([
      ['Space', 1],
      ['Note', 1],
      ['Tag', 0],
    ]);
    expect(await reopened.queueSize()).toBe(0);
    expect(server.table('tenant-a', 'Note')[0]!.data.spaceId).toBe(server.table('tenant-a', 'Space')[0]!.id);
  });
});

describe('sync engine', () => {
  it('pushes a parent and child created offline, then pulls them on another device with ids mapped', async () => {
    const server = new StubSyncServer(entities);
    const { client: device1 } = setup({ server });
    const space = await device1.spaces.create({ name: 'Offline space', ownerId: 'u1' });
    const note = await device1.notes.create({ title: 'Offline note', spaceId: space.id, metadata: { x: 1 } });

    const report = await device1.syncAll();
    expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({ pushed: 1, succeeded: 1 });
    expect(report.entities.find((e) => e.entity === 'Note')).toMatchObject({ pushed: 1, succeeded: 1 });

    const [serverSpace] = server.table('tenant-a', 'Space');
    const [serverNote] = server.table('tenant-a', 'Note');
    expect(serverSpace!.clientId).toBe(space.id);
    expect(serverNote!.clientId).toBe(note.id);
    // The parent's server id was known when the child was pushed: sent translated.
    const notePush = server.requests.find((r) => r.field === 'syncPush' && r.variables.entity === 'Note')!;
    expect((notePush.variables.items as Record<string, unknown>[])[0]!.spaceId).toBe(serverSpace!.id);
    expect(serverNote!.data.spaceId).toBe(serverSpace!.id);

    // Device 1: server ids and versions stored, local FK unchanged.
    const localSpace = await device1.spaces.get(space.id);
    const localNote = await device1.notes.get(note.id);
    expect(localSpace).toMatchObject({ id: space.id, serverId: serverSpace!.id, version: 1 });
    expect(localSpace!.serverUpdatedAt).toEqual(new Date(serverSpace!.updatedAt));
    expect(localNote).toMatchObject({ id: note.id, serverId: serverNote!.id, version: 1, spaceId: space.id });

    // Device 2 (fresh database, same tenant) pulls both: local ids are the clientIds, FK maps to the local parent.
    const { client: device2 } = setup({ server });
    const pulled = await device2.syncAll();
    expect(pulled.entities.map((e) => e.pulled)).toEqual([1, 1, 0]);
    const remoteNote = await device2.notes.get(note.id);
    expect(remoteNote).toMatchObject({ serverId: serverNote!.id, spaceId: space.id, metadata: { x: 1 } });
    const remoteSpace = await device2.spaces.get(remoteNote!.spaceId);
    expect(remoteSpace).toMatchObject({ name: 'Offline space', serverId: serverSpace!.id });
  });

  it('maps a pulled foreign key to the parent this run pulled without looking the parent up, and looks up a parent pulled before', async () => {
    const server = new StubSyncServer(entities);
    const { client: device1 } = setup({ server });
    const spaces = await Promise.all([1, 2, 3].map((i) => device1.spaces.create({ name: `s${i}`, ownerId: 'u1' })));
    const notes = await Promise.all(spaces.map((s, i) => device1.notes.create({ title: `n${i}`, spaceId: s.id })));
    await device1.syncAll();
    // The local ids (client ids) differ from the server ids: a wrong mapping would show.
    expect(server.table('tenant-a', 'Space').every((s) => s.id !== s.clientId)).toBe(true);

    const { client: device2 } = setup({ server, pullLimit: 2 });
    const lookups: string[] = [];
    const adapter = device2.database.adapter.underlyingAdapter as unknown as { unsafeQueryRaw(query: SerializedQuery, cb: unknown): void };
    const original = adapter.unsafeQueryRaw.bind(adapter);
    adapter.unsafeQueryRaw = (query, cb) => {
      if (query.description.where.some((w) => w.left === 'server_id')) lookups.push(query.table);
      original(query, cb);
    };
    await device2.syncAll();
    for (const [i, note] of notes.entries()) expect(await device2.notes.get(note.id)).toMatchObject({ spaceId: spaces[i]!.id });
    expect(lookups).toEqual([]);

    // Next run: only a note changed; its parent was pulled in an earlier run, so it is looked up.
    await device1.notes.update(notes[1]!.id, { title: 'edited' });
    await device1.syncAll();
    await device2.syncAll();
    expect(await device2.notes.get(notes[1]!.id)).toMatchObject({ title: 'edited', spaceId: spaces[1]!.id });
    expect(lookups).toContain('spaces');
  });

  it('sends the parent clientId when the parent is not acknowledged yet (server translates it)', async () => {
    const { client, server } = setup();
    const space = await client.spaces.create({ name: 'p', ownerId: 'u' });
    await client.notes.create({ title: 'c', spaceId: space.id });
    server.rejectItem = (entity) => (entity === 'Space' ? 'TRANSIENT' : null);
    // The parent fails this round; the child still goes out with the parent's clientId and fails on the server's FK check.
    await client.syncAll();
    const notePush = server.requests.find((r) => r.field === 'syncPush' && r.variables.entity === 'Note')!;
    expect((notePush.variables.items as Record<string, unknown>[])[0]!.spaceId).toBe(space.id);
    const failed = await ops(client);
    expect(failed.map((o) => [o.status, o.attempts])).toEqual([
      ['failed', 1],
      ['failed', 1],
    ]);
    expect(failed[0]!.lastError).toMatch(/TRANSIENT/);
    server.rejectItem = null;
    await client.syncAll();
    expect(await client.queueSize()).toBe(0);
    expect(server.table('tenant-a', 'Note')[0]!.data.spaceId).toBe(server.table('tenant-a', 'Space')[0]!.id);
  });

  it('maps server-created records without clientId to local id = server id', async () => {
    const { client, server } = setup();
    const sp = server.insert('tenant-a', 'Space', {
      name: 'From server',
      kind: 'PERSONAL',
      position: 1,
      ownerId: 'admin',
    });
    server.insert('tenant-a', 'Note', {
      title: 'child',
      done: true,
      weight: null,
      dueAt: '2024-05-06T07:08:09.010Z',
      metadata: null,
      spaceId: sp.id,
    });
    await client.syncAll();
    const space = await client.spaces.get(sp.id);
    expect(space).toMatchObject({ id: sp.id, serverId: sp.id, clientId: null, name: 'From server', kind: 'PERSONAL' });
    const [note] = await client.notes.list();
    expect(note).toMatchObject({ spaceId: sp.id, done: true, dueAt: new Date('2024-05-06T07:08:09.010Z') });
    // An update from the device goes out with the server id and base version.
    await client.spaces.update(sp.id, { name: 'Edited' });
    await client.syncAll();
    const push = server.requests.filter((r) => r.field === 'syncPush').pop()!;
    expect(push.variables.items).toEqual([{ name: 'Edited', id: sp.id, version: 1, updatedAt: expect.any(String) }]);
    expect(sp.data.name).toBe('Edited');
  });

  it('pulls page by page, applies tombstones, keeps records with waiting local changes, commits the cursor last', async () => {
    const server = new StubSyncServer(entities);
    const { client } = setup({ server, pullLimit: 2 });
    const rows = [1, 2, 3, 4, 5].map((i) =>
      server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' }),
    );
    let report = await client.syncAll();
    expect(report.entities[0]).toMatchObject({ pulled: 5, pages: 3 });
    expect(await client.spaces.count()).toBe(5);

    // Local edit waiting + server edit of the same record: local is kept; tombstone deletes another.
    await client.spaces.update(rows[0]!.id, { name: 'local wins for now' });
    server.touch('tenant-a', 'Space', rows[0]!.id, { name: 'server edit' });
    server.remove('tenant-a', 'Space', rows[1]!.id);
    report = await client.syncPull();
    expect(report.entities[0]).toMatchObject({ pulled: 2, keptLocal: 1, deleted: 1 });
    expect((await client.spaces.get(rows[0]!.id))?.name).toBe('local wins for now');
    expect(await client.spaces.get(rows[1]!.id)).toBeNull();

    // A pull that fails mid-way stores no cursor: the next pull starts again from the committed one.
    for (const r of rows.slice(2)) server.touch('tenant-a', 'Space', r.id, { position: 100 });
    let calls = 0;
    server.beforeRequest = (req) => {
      if (req.field === 'syncPull' && ++calls === 2) throw new Error('connection reset');
    };
    await expect(client.syncPull()).rejects.toBeInstanceOf(NetworkError);
    server.beforeRequest = null;
    const before = server.requests.length;
    report = await client.syncPull();
    const firstRetry = server.requests[before]!;
    expect(firstRetry.variables.cursor).toBeDefined();
    expect(report.entities[0]!.pulled).toBe(3); // all three again, none skipped
    expect((await client.spaces.list()).filter((s) => s.position === 100)).toHaveLength(3);
  });

  it('an initial pull writes new records of an unobserved table with raw SQL: the same rows as the Model path of an observed one', async () => {
    const server = new StubSyncServer(entities);
    const spaces = [1, 2, 3].map((i) => server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' }, i === 2 ? `cid-${i}` : null));
    for (const [i, sp] of spaces.entries()) {
      server.insert('tenant-a', 'Note', { title: `n${i}`, done: i === 1, weight: i + 0.5, dueAt: '2030-01-02T03:04:05.678Z', metadata: { i }, spaceId: sp.id });
    }
    const fast = setup({ server, pullLimit: 2 }).client;
    const observed = setup({ server, pullLimit: 2 }).client;
    const seen: number[] = [];
    const subscriptions = [observed.notes.observe().subscribe((list) => seen.push(list.length)), observed.spaces.observe().subscribe(() => undefined)];
    const sqls = spyOnRawInserts(fast);
    const untouched = spyOnRawInserts(observed);
    await fast.syncPull();
    await observed.syncPull();
    for (const s of subscriptions) s.unsubscribe();

    expect(sqls.filter((q) => q.startsWith('insert into "spaces"'))).not.toHaveLength(0); // the unobserved client took the raw path
    expect(sqls.filter((q) => q.startsWith('insert into "notes"'))).not.toHaveLength(0);
    expect(untouched).toHaveLength(0); // the observed one took the Model path
    expect(seen.at(-1)).toBe(3); // and its observer heard of the pulled notes
    const rows = async (c: AppClient, table: string) =>
      c.database.get(table).query(Q.unsafeSqlQuery(`select * from "${table}" order by server_id`)).unsafeFetchRaw();
    for (const table of ['spaces', 'notes']) expect(await rows(fast, table)).toEqual(await rows(observed, table));
    // Read back through the models: values, local ids (client id, else server id), the foreign key mapped to the local parent.
    const note = (await fast.notes.list()).find((n) => n.title === 'n1')!;
    expect(note).toMatchObject({ done: true, weight: 1.5, dueAt: new Date('2030-01-02T03:04:05.678Z'), metadata: { i: 1 }, spaceId: 'cid-2' });
    expect((await fast.spaces.get('cid-2'))?.name).toBe('s2');
    // A later edit on the server updates the raw-written row through the Model path.
    server.touch('tenant-a', 'Space', spaces[0]!.id, { name: 'edited' });
    await fast.syncPull();
    expect((await fast.spaces.get(spaces[0]!.id))?.name).toBe('edited');
    expect(await fast.spaces.count()).toBe(3);
  });

  it('an initial pull cut off between its rows and its cursor restarts and loses or duplicates nothing', async () => {
    const server = new StubSyncServer(entities);
    for (let i = 0; i < 5; i++) server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' });
    const { client, dbDir } = setup({ server, pullLimit: 2 });
    const sqls = spyOnRawInserts(client);
    // The app dies after the raw INSERTs committed, before the batch that stores the cursor.
    const batch = client.database.batch.bind(client.database);
    client.database.batch = (async () => {
      throw new Error('killed');
    }) as typeof client.database.batch;
    await expect(client.syncPull()).rejects.toThrow('killed');
    client.database.batch = batch;
    expect(sqls.length).toBeGreaterThan(0);
    expect(await client.spaces.count()).toBe(5); // the rows are there, the cursor is not
    await client.close();

    const relaunched = setup({ server, pullLimit: 2, dbDir }).client;
    const report = await relaunched.syncPull();
    expect(report.entities[0]).toMatchObject({ pulled: 5 }); // from the start again
    const names = (await relaunched.spaces.list()).map((s) => s.name).sort();
    expect(names).toEqual(['s0', 's1', 's2', 's3', 's4']);
    server.insert('tenant-a', 'Space', { name: 's5', kind: 'TEAM', position: 5, ownerId: 'o' });
    expect((await relaunched.syncPull()).entities[0]).toMatchObject({ pulled: 1 }); // the cursor is stored now
    expect(await relaunched.spaces.count()).toBe(6);
  });

  it('an initial pull into an empty table indexes its rows once, after they are written, and never leaves the table without its indices', async () => {
    const indexNames = async (c: AppClient) =>
      ((await c.database.get('spaces').query(Q.unsafeSqlQuery(`select name from sqlite_master where type = 'index' and tbl_name = 'spaces' and sql is not null order by name`)).unsafeFetchRaw()) as { name: string }[]).map((r) => r.name);
    const server = new StubSyncServer(entities);
    for (let i = 0; i < 1200; i++) server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' });
    const { client, dbDir } = setup({ server, pullLimit: 500 });
    const before = await indexNames(client);
    expect(before).toEqual(expect.arrayContaining(['spaces__status', 'spaces_client_id', 'spaces_server_id']));
    const statements: string[] = [];
    const adapter = client.database.adapter as unknown as { unsafeExecute(work: { sqls?: [string, unknown[]][] }): Promise<void> };
    const original = adapter.unsafeExecute.bind(adapter);
    let failInserts = true;
    let droppedWhileInserting: string[] | null = null;
    adapter.unsafeExecute = async (work) => {
      for (const [sql] of work.sqls ?? []) statements.push(sql.slice(0, 40));
      // The app's SQLite fails on the rows (a full disk): after the indices were dropped.
      if (failInserts && (work.sqls ?? []).some(([sql]) => sql.startsWith('insert into "spaces"'))) {
        droppedWhileInserting = await indexNames(client);
        throw new Error('disk full');
      }
      return original(work);
    };
    await expect(client.syncPull()).rejects.toThrow('disk full');
    expect(statements.some((q) => q.startsWith('DROP INDEX IF EXISTS "spaces_'))).toBe(true);
    // Really gone meanwhile: the rows are written into an unindexed table.
    expect(droppedWhileInserting).toEqual([]);
    expect(await indexNames(client)).toEqual(before); // put back when the pull failed
    expect(await client.spaces.count()).toBe(0);

    failInserts = false;
    statements.length = 0;
    await client.syncPull();
    expect(await client.spaces.count()).toBe(1200);
    const drops = statements.filter((q) => q.startsWith('DROP INDEX') && q.includes('"spaces_')).length;
    const creates = statements.filter((q) => q.startsWith('CREATE INDEX') && q.includes('"spaces_')).length;
    expect(drops).toBe(before.length); // dropped once for the rows, then created once
    expect(creates).toBe(before.length);
    expect(await indexNames(client)).toEqual(before);
    // Served from an index again: SQLite's plan for a look-up by server id names it.
    const plan = (await client.database.get('spaces').query(Q.unsafeSqlQuery(`explain query plan select * from spaces where server_id = 'x'`)).unsafeFetchRaw()) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('spaces_server_id');

    // The app killed while they were dropped: the next session's first pull of the entity puts them back.
    await client.database.write(() => client.database.adapter.unsafeExecute({ sqls: before.map((name) => [`DROP INDEX IF EXISTS "${name}"`, []]) }));
    expect(await indexNames(client)).toEqual([]);
    await client.close();
    const relaunched = setup({ server, pullLimit: 500, dbDir }).client;
    await relaunched.syncPull();
    expect(await indexNames(relaunched)).toEqual(before);
    expect(await relaunched.spaces.count()).toBe(1200);
  });

  it('a change made while its record is being pushed is queued behind it, not lost', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'one', ownerId: 'u' });
    let edited = false;
    server.beforeRequest = async (req) => {
      if (req.field === 'syncPush' && !edited) {
        edited = true;
        await client.spaces.update(s.id, { name: 'two' });
      }
    };
    await client.syncAll();
    const pushes = server.requests.filter((r) => r.field === 'syncPush').map((r) => r.variables.items);
    const row = server.table('tenant-a', 'Space')[0]!;
    // The insert went out with 'one'; the edit was queued behind it and sent next, with the new id and version.
    expect(pushes).toEqual([
      [expect.objectContaining({ name: 'one', clientId: s.id })],
      [{ name: 'two', clientId: s.id, id: row.id, version: 1, updatedAt: expect.any(String) }],
    ]);
    expect(row.data.name).toBe('two');
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'two', version: 2 });
    expect(await client.queueSize()).toBe(0);
  });

  it('never runs two syncs at once for one database; a second syncAll joins the running one', async () => {
    const { client, server } = setup();
    await client.spaces.create({ name: 'a', ownerId: 'u' });
    server.latencyMs = 20;
    const first = client.syncAll();
    const second = client.syncAll();
    const push = client.syncPush();
    expect(client.isSyncing).toBe(true);
    const [r1, r2] = await Promise.all([first, second, push]);
    expect(r2).toBe(r1);
    expect(server.maxInflight).toBe(1);
    expect(server.table('tenant-a', 'Space')).toHaveLength(1);
    expect(client.isSyncing).toBe(false);
  });

  it('creates many records in one transaction and pushes them in batches', async () => {
    const { client, server } = setup({ pushBatchSize: 100 });
    const space = await client.spaces.create({ name: 'p', ownerId: 'u' });
    const notes = await client.notes.createMany(
      Array.from({ length: 1000 }, (_, i) => ({ title: `n${i}`, spaceId: space.id })),
    );
    expect(notes).toHaveLength(1000);
    expect(notes.every((n) => isUuidV7(n.id))).toBe(true);
    expect(await client.queueSize('Note')).toBe(1000);
    const report = await client.syncAll();
    expect(report.entities.find((e) => e.entity === 'Note')).toMatchObject({ pushed: 1000, succeeded: 1000 });
    const notePushes = server.requests.filter((r) => r.field === 'syncPush' && r.variables.entity === 'Note');
    expect(notePushes.map((r) => (r.variables.items as unknown[]).length)).toEqual(Array(10).fill(100));
    expect(server.table('tenant-a', 'Note')).toHaveLength(1000);
    expect(await client.queueSize()).toBe(0);
  });

  it('marks a batch failed on a network error and resumes without duplicates', async () => {
    const { client, server } = setup({ pushBatchSize: 2 });
    for (let i = 0; i < 5; i++) await client.spaces.create({ name: `s${i}`, ownerId: 'u' });
    let pushes = 0;
    server.beforeRequest = (req) => {
      if (req.field === 'syncPush' && ++pushes === 2) throw new Error('offline');
    };
    await expect(client.syncAll()).rejects.toThrow(/offline/);
    const after = await ops(client);
    expect(after.map((o) => o.status).sort()).toEqual(['failed', 'failed', 'pending']);
    expect(
      after.filter((o) => o.status === 'failed').every((o) => o.attempts === 1 && /offline/.test(o.lastError ?? '')),
    ).toBe(true);
    server.beforeRequest = null;
    await client.syncAll();
    expect(await client.queueSize()).toBe(0);
    expect(server.table('tenant-a', 'Space')).toHaveLength(5);
    expect((await client.metrics()).retries).toBe(2);
  });

  it('resends operations left in `sending` by a crash; the server dedupes the create', async () => {
    const { client, server, dbDir } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    // The server applied the push but the app died before storing the answer.
    server.beforeRequest = (req) => {
      if (req.field === 'syncPush') {
        (server as unknown as { handle(r: unknown): unknown }).handle(req);
        throw new Error('killed');
      }
    };
    await expect(client.syncAll()).rejects.toThrow();
    await client.database.write(async () => {
      const [op] = await client.queue.all();
      await op!.update((o) => o._setRaw('status', 'sending'));
    });
    closeNodeDatabase(client.database);
    server.beforeRequest = null;
    const restarted = setup({ dbDir, server }).client;
    await restarted.syncAll();
    expect(server.table('tenant-a', 'Space')).toHaveLength(1);
    expect((await restarted.spaces.get(s.id))?.serverId).toBe(server.table('tenant-a', 'Space')[0]!.id);
  });

  it('on a conflict the server won, records it and adopts the server data', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'base', ownerId: 'u' });
    await client.syncAll();
    await client.spaces.update(s.id, { name: 'device edit' });
    await new Promise((r) => setTimeout(r, 5));
    server.touch('tenant-a', 'Space', server.table('tenant-a', 'Space')[0]!.id, { name: 'server edit (newer)' });
    const report = await client.syncPush();
    expect(report.entities[0]).toMatchObject({ conflicts: 1, succeeded: 0 });
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'server edit (newer)', version: 2 });
    expect(await client.queueSize()).toBe(0);
    const [conflict] = await client.listConflicts();
    expect(conflict).toMatchObject({
      entity: 'Space',
      entityId: s.id,
      resolved: true,
      resolution: 'server',
      localVersion: 1,
      serverVersion: 2,
    });
    expect(conflict!.localData).toMatchObject({ name: 'device edit' });
  });

  it('keeps a manual conflict for the user, then resolves it (local wins)', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'p', ownerId: 'u' });
    const n = await client.notes.create({ title: 'base', spaceId: s.id });
    await client.syncAll();
    const serverNote = server.table('tenant-a', 'Note')[0]!;
    await client.notes.update(n.id, { title: 'mine' });
    server.touch('tenant-a', 'Note', serverNote.id, { title: 'theirs' });
    await client.syncAll();
    // Manual strategy: the change waits, the pull does not overwrite it.
    expect((await client.notes.get(n.id))?.title).toBe('mine');
    const open = await client.notes.listConflicts({ resolved: false });
    expect(open).toHaveLength(1);
    expect(open[0]!.serverData).toMatchObject({ title: 'theirs', version: 2 });
    await client.syncAll(); // still waiting: not pushed again
    expect(await client.notes.listConflicts()).toHaveLength(1);

    await client.notes.resolveConflict(open[0]!.id, 'local');
    await client.syncAll();
    expect(serverNote.data.title).toBe('mine');
    expect(serverNote.version).toBe(3);
    expect(await client.notes.get(n.id)).toMatchObject({ title: 'mine', version: 3 });
    expect(await client.notes.listConflicts({ resolved: false })).toHaveLength(0);
  });

  it('merge strategy: sends `_base`, the server merges other-field changes, clashes adopt the suggested merge', async () => {
    const { client, server } = setup();
    const t = await client.tags.create({ label: 'red', color: 'r' });
    await client.syncAll();
    const row = server.table('tenant-a', 'Tag')[0]!;
    // Different fields changed on both sides: merged by the server.
    await client.tags.update(t.id, { label: 'crimson' });
    server.touch('tenant-a', 'Tag', row.id, { color: 'R' });
    await client.syncAll();
    const push = server.requests.filter((r) => r.field === 'syncPush').pop()!;
    expect(push.variables.items).toEqual([
      {
        label: 'crimson',
        id: row.id,
        clientId: t.id,
        version: 1,
        updatedAt: expect.any(String),
        _base: { label: 'red' },
      },
    ]);
    expect(row.data).toEqual({ label: 'crimson', color: 'R' });
    expect(await client.tags.get(t.id)).toMatchObject({ label: 'crimson', color: 'R', version: 3 });

    // Same field on both sides + another field on the device: the server's value wins the clash,
    // the device's other change is pushed again on top of the server version.
    await client.tags.update(t.id, { label: 'scarlet', color: 'dark' });
    server.touch('tenant-a', 'Tag', row.id, { label: 'ruby' });
    await client.syncPush();
    // label clashes (server keeps 'ruby'), color only changed on the device
    expect(await client.tags.get(t.id)).toMatchObject({ label: 'ruby', color: 'dark' });
    await client.syncAll();
    expect(row.data).toEqual({ label: 'ruby', color: 'dark' });
    expect(await client.tags.get(t.id)).toMatchObject({ label: 'ruby', color: 'dark', version: row.version });
    const conflicts = await client.tags.listConflicts();
    expect(conflicts.map((c) => [c.resolved, c.resolution])).toEqual([[true, 'merge']]);
  });

  it('creates online: the server id comes back at once and the record is stored as synced', async () => {
    const { client, server } = setup();
    const space = await client.spaces.createOnline({ name: 'Online', ownerId: 'u' });
    const row = server.table('tenant-a', 'Space')[0]!;
    expect(space).toMatchObject({
      serverId: row.id,
      clientId: row.clientId,
      id: row.clientId,
      name: 'Online',
      version: 1,
    });
    expect(isUuidV7(space.id)).toBe(true);
    expect(await client.queueSize()).toBe(0);
    const note = await client.notes.createOnline({ title: 'child', spaceId: space.id });
    expect(server.table('tenant-a', 'Note')[0]!.data.spaceId).toBe(row.id);
    expect(note.spaceId).toBe(space.id);
  });

  it('force sync from server keeps waiting changes unless told to discard them; force push local overwrites the server', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'base', ownerId: 'u' });
    await client.syncAll();
    const row = server.table('tenant-a', 'Space')[0]!;
    await client.spaces.update(s.id, { name: 'local' });
    const localOnly = await client.spaces.create({ name: 'never pushed', ownerId: 'u' });
    // By default waiting changes survive a reload from the server.
    server.touch('tenant-a', 'Space', row.id, { kind: 'PERSONAL' });
    await client.spaces.forceSyncFromServer();
    expect(await client.queueSize()).toBe(2);
    expect((await client.spaces.get(s.id))?.name).toBe('local');
    expect(await client.spaces.get(localOnly.id)).not.toBeNull();
    // With the explicit flag they are dropped.
    await client.spaces.forceSyncFromServer({ discardPending: true });
    expect(await client.queueSize()).toBe(0);
    expect((await client.spaces.get(s.id))?.name).toBe('base');
    expect(await client.spaces.get(localOnly.id)).toBeNull();

    server.touch('tenant-a', 'Space', row.id, { name: 'server' });
    await client.spaces.forcePushLocal();
    expect(row.data.name).toBe('base');
    expect((await client.spaces.get(s.id))?.version).toBe(row.version);
  });

  it('sends the bearer token; a bad token is an UNAUTHENTICATED GraphQL error and nothing is lost', async () => {
    const { client, server } = setup({ token: 'nope' });
    await client.spaces.create({ name: 'a', ownerId: 'u' });
    await expect(client.syncAll()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(server.requests[0]!.tenant).toBeNull();
    expect(await client.queueSize()).toBe(1);
  });

  it('keeps tenants apart: separate databases, separate server data', async () => {
    const server = new StubSyncServer(entities);
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const a = setup({ server, dbDir: tmp.dir }).client;
    const b = setup({ server, dbDir: tmp.dir, tenant: 'tenant-b', token: 'dev:tenant-b:user-2' }).client;
    await a.spaces.create({ name: 'A only', ownerId: 'u' });
    await a.syncAll();
    await b.syncAll();
    expect(await b.spaces.count()).toBe(0);
    expect(await a.spaces.count()).toBe(1);
  });
});

describe('pull requests', () => {
  /** A client over the stub whose fetch records every HTTP request's syncPull fields (entity per field). */
  function counted(server: StubSyncServer, refuseCombined = false) {
    const requests: string[][] = [];
    const fetch: FetchLike = async (url, init) => {
      const body = JSON.parse(init.body) as { query: string; variables: Record<string, unknown> };
      const fields = body.query.match(/syncPull\(/g)?.length ?? 0;
      requests.push(Object.entries(body.variables).filter(([k]) => /^entity\d*$/.test(k)).map(([, v]) => String(v)));
      // A server (or a gateway in front of it) that takes one root field per document.
      if (refuseCombined && fields > 1) {
        return { ok: true, status: 200, text: async () => JSON.stringify({ errors: [{ message: 'one root field per request', extensions: { code: 'BAD_REQUEST' } }] }) };
      }
      return server.fetch(url, init);
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const client = new AppClient({ tenantId: 'tenant-a', token: TOKEN_A, url: URL, fetch, dbDir: tmp.dir, pullLimit: 2 });
    return { client, requests };
  }

  function seedServer(): StubSyncServer {
    const server = new StubSyncServer(entities);
    const spaces = [1, 2, 3].map((i) => server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' }));
    server.insert('tenant-a', 'Note', { title: 'n', done: false, weight: 1, dueAt: null, metadata: null, spaceId: spaces[0]!.id });
    return server;
  }

  it('asks the first page of every stream in one request, and the further pages of a stream on their own', async () => {
    const { client, requests } = counted(seedServer());
    const report = await client.syncPull();
    expect(report.entities.map((e) => [e.entity, e.pulled])).toEqual([['Space', 3], ['Note', 1], ['Tag', 0]]);
    // One request for the three first pages, then Space's second page (pullLimit 2).
    expect(requests).toEqual([['Space', 'Note', 'Tag'], ['Space']]);
    expect((await client.notes.list())[0]!.spaceId).toBe((await client.spaces.list()).find((sp) => sp.name === 's1')!.id);
    requests.length = 0;
    const again = await client.syncPull();
    expect(again.entities.map((e) => e.pulled)).toEqual([0, 0, 0]);
    expect(requests).toEqual([['Space', 'Note', 'Tag']]);
  });

  it('asks at most STREAMS_PER_REQUEST first pages per request', async () => {
    const { client, requests } = counted(seedServer());
    // 20 streams of one entity (scope roots the stub does not check): 16 in one request, 4 in the next.
    const streams = Array.from({ length: 20 }, (_, i) => ({ entity: spaceDescriptor, scope: `root-${i}` }));
    const pages = await fetchFirstPages(client.engine, streams);
    expect(requests.map((r) => r.length)).toEqual([STREAMS_PER_REQUEST, 20 - STREAMS_PER_REQUEST]);
    expect([...pages.keys()]).toEqual(streams.map((st) => streamKey(st.entity, st.scope)));
    expect(pages.get(streamKey(spaceDescriptor, 'root-19'))!.page.items).toHaveLength(2);
  });

  it("asks the next stream's further pages while the stream before it is still applying its last ones", async () => {
    const server = new StubSyncServer(entities);
    const spaces = [1, 2, 3, 4, 5].map((i) => server.insert('tenant-a', 'Space', { name: `s${i}`, kind: 'TEAM', position: i, ownerId: 'o' }));
    for (let i = 0; i < 5; i++) server.insert('tenant-a', 'Note', { title: `n${i}`, done: false, weight: 1, dueAt: null, metadata: null, spaceId: spaces[i]!.id });
    const requests: string[][] = [];
    let noteAsked = false;
    let noteRequested: (() => void) | null = null;
    const fetch: FetchLike = async (url, init) => {
      const body = JSON.parse(init.body) as { variables: Record<string, unknown> };
      const asked = Object.entries(body.variables).filter(([k]) => /^entity\d*$/.test(k)).map(([, v]) => String(v));
      requests.push(asked);
      if (asked.length === 1 && asked[0] === 'Note') {
        noteAsked = true;
        noteRequested?.();
      }
      return server.fetch(url, init);
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    // Space's afterPull hook runs inside its stream's pull, after its last group is written
    // and before the Note stream begins: Note's second page is asked meanwhile.
    let askedDuringSpaceApply = false;
    const client = new AppClient({
      tenantId: 'tenant-a',
      token: TOKEN_A,
      url: URL,
      fetch,
      dbDir: tmp.dir,
      pullLimit: 2,
      hooks: {
        Space: {
          afterPull: async () => {
            askedDuringSpaceApply = noteAsked || (await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), 2_000);
              noteRequested = () => {
                clearTimeout(timer);
                resolve(true);
              };
            }));
          },
        },
      },
    });
    const report = await client.syncPull();
    expect(askedDuringSpaceApply).toBe(true);
    expect(report.entities.map((e) => [e.entity, e.pulled])).toEqual([['Space', 5], ['Note', 5], ['Tag', 0]]);
    // Each page once: the three first pages, Space's pages 2 and 3, Note's pages 2 and 3.
    expect(requests).toEqual([['Space', 'Note', 'Tag'], ['Space'], ['Space'], ['Note'], ['Note']]);
    const byId = new Map((await client.spaces.list()).map((sp) => [sp.id, sp.name]));
    expect((await client.notes.list()).map((n) => `${n.title}:${byId.get(n.spaceId)}`).sort()).toEqual(['n0:s1', 'n1:s2', 'n2:s3', 'n3:s4', 'n4:s5']);
  });

  it("fails the next stream, not the one applying, when the next stream's page read ahead fails; the next run goes on from there", async () => {
    const server = seedServer();
    for (let i = 0; i < 4; i++) server.insert('tenant-a', 'Note', { title: `m${i}`, done: false, weight: 1, dueAt: null, metadata: null, spaceId: null });
    let failNotes = true;
    const fetch: FetchLike = async (url, init) => {
      const body = JSON.parse(init.body) as { variables: Record<string, unknown> };
      if (failNotes && body.variables.entity === 'Note') throw new Error('connection reset');
      return server.fetch(url, init);
    };
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const client = new AppClient({ tenantId: 'tenant-a', token: TOKEN_A, url: URL, fetch, dbDir: tmp.dir, pullLimit: 2 });
    await expect(client.syncPull()).rejects.toThrow(/connection reset/);
    // Space was applied in full, with its position; nothing of Note was stored.
    expect((await client.spaces.list()).map((sp) => sp.name).sort()).toEqual(['s1', 's2', 's3']);
    expect(await client.notes.list()).toEqual([]);
    failNotes = false;
    const report = await client.syncPull();
    expect(report.entities.map((e) => [e.entity, e.pulled])).toEqual([['Space', 0], ['Note', 5], ['Tag', 0]]);
    expect((await client.notes.list()).map((n) => n.title).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'n']);
  });

  it('asks every stream on its own when the server refuses the combined request, with the same result', async () => {
    const { client, requests } = counted(seedServer(), true);
    const report = await client.syncPull();
    expect(report.entities.map((e) => [e.entity, e.pulled])).toEqual([['Space', 3], ['Note', 1], ['Tag', 0]]);
    expect(requests).toEqual([['Space', 'Note', 'Tag'], ['Space'], ['Space'], ['Note'], ['Tag']]);
    expect((await client.spaces.list()).map((sp) => sp.name).sort()).toEqual(['s1', 's2', 's3']);
  });
});

describe('raw INSERT rows', () => {
  it('are, value for value, the rows sanitizedRaw makes of serverRaw, for every kind of value a page may carry', async () => {
    const { client } = setup();
    const database = client.database;
    const schema = database.schema.tables['notes']!;
    const fkMaps = new Map([['Space', new Map([['srv-space-1', 'local-space-1']])]]);
    const items: WireItem[] = [
      { id: 's1', clientId: 'c1', version: 3, updatedAt: '2026-01-02T03:04:05.678Z', deletedAt: null, title: 'a', done: true, weight: 1.5, dueAt: '2026-02-01T00:00:00.000Z', metadata: { a: [1, 'x'] }, spaceId: 'srv-space-1' },
      // Absent fields, nulls, a foreign key not in the map, no client id, no version, an unreadable stamp.
      { id: 's2', updatedAt: 'not a date', title: null, spaceId: 'srv-unknown' },
      // Values of the wrong type for their columns (what a misbehaving server could send).
      { id: 's3', clientId: 7, version: '2', title: 12, done: 'yes', weight: 'heavy', dueAt: 5, metadata: 'text', spaceId: null },
      { id: 's4', clientId: '', version: 0, title: '', done: false, weight: Number.NaN, dueAt: null, metadata: null },
    ];
    const rows = items.map((item, k) => ({ item, localId: `local-${k}` }));
    const columns = ['id', '_status', '_changed', ...schema.columnArray.map((c) => c.name)];
    const expected = rows.flatMap(({ item, localId }) => {
      const row = sanitizedRaw(serverRaw(noteDescriptor, item, localId, fkMaps), schema) as unknown as Record<string, unknown>;
      return columns.map((c) => row[c]);
    });
    const sqls = insertStatements(database, noteDescriptor, rows, serverColumns(noteDescriptor, fkMaps), (r) => r.localId);
    expect(sqls).toHaveLength(1);
    expect(sqls[0]![0]).toBe(`insert into "notes" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array(rows.length).fill(`(${columns.map(() => '?').join(', ')})`).join(', ')}`);
    expect(sqls[0]![1]).toEqual(expected);
    // What the rows hold, by column (not only what serverRaw says they hold).
    const rowOf = (k: number): Record<string, unknown> => Object.fromEntries(columns.map((c, i) => [c, sqls[0]![1][k * columns.length + i]]));
    expect(rowOf(0)).toEqual({
      id: 'local-0',
      _status: 'created',
      _changed: '',
      title: 'a',
      done: true,
      weight: 1.5,
      due_at: Date.parse('2026-02-01T00:00:00.000Z'),
      metadata: JSON.stringify({ a: [1, 'x'] }),
      space_id: 'local-space-1',
      server_id: 's1',
      client_id: 'c1',
      version: 3,
      server_updated_at: Date.parse('2026-01-02T03:04:05.678Z'),
      deleted_at: null,
    });
    // Absent and null values take the column's empty value; a key not in the map stays as sent.
    expect(rowOf(1)).toMatchObject({ title: '', done: false, weight: null, due_at: null, metadata: null, space_id: 'srv-unknown', client_id: null, version: 0, server_updated_at: null });
    // A client id of the wrong type is none; a version of the wrong type is 0.
    expect(rowOf(2)).toMatchObject({ client_id: null, version: 0, space_id: '' });
    // Enough rows for several statements of at most 999 variables each.
    const many = Array.from({ length: 250 }, (_, k) => ({ item: { ...items[k % items.length]!, id: `m${k}` }, localId: `lm-${k}` }));
    const split = insertStatements(database, noteDescriptor, many, serverColumns(noteDescriptor, fkMaps), (r) => r.localId);
    expect(split.length).toBeGreaterThan(1);
    for (const [, args] of split) expect(args.length).toBeLessThanOrEqual(999);
    expect(split.flatMap(([, args]) => args)).toEqual(
      many.flatMap(({ item, localId }) => {
        const row = sanitizedRaw(serverRaw(noteDescriptor, item, localId, fkMaps), schema) as unknown as Record<string, unknown>;
        return columns.map((c) => row[c]);
      }),
    );
  });
});

describe('undo and metrics', () => {
  it('undo reverts the unsynced local change of a record from the queue snapshot', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u', position: 1 });
    await client.syncAll();

    // An update: the changed fields go back to what the server last had; nothing is queued.
    await client.spaces.update(s.id, { name: 'b' });
    await client.spaces.update(s.id, { position: 9 });
    expect(await client.spaces.undo(s.id)).toBe(true);
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'a', position: 1, version: 1 });
    expect(await ops(client)).toHaveLength(0);
    expect(await client.spaces.undo(s.id)).toBe(false); // nothing left to undo

    // A delete after an update: undo brings the record back with the update still queued, then undoes that.
    await client.spaces.update(s.id, { name: 'c' });
    await client.spaces.delete(s.id);
    expect(await client.spaces.get(s.id)).toBeNull();
    expect(await client.spaces.undo(s.id)).toBe(true);
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'c' });
    expect((await ops(client)).map((o) => [o.operation, o.payload])).toEqual([['update', { name: 'c' }]]);
    expect(await client.spaces.undo(s.id)).toBe(true);
    expect(await client.spaces.get(s.id)).toMatchObject({ name: 'a' });
    expect(await ops(client)).toHaveLength(0);

    // An unsynced create: the record goes away.
    const t = await client.spaces.create({ name: 't', ownerId: 'u' });
    expect(await client.spaces.undo(t.id)).toBe(true);
    expect(await client.database.get('spaces').query(Q.where('id', t.id)).fetchCount()).toBe(0);
    expect(await ops(client)).toHaveLength(0);

    const pushesBefore = server.requests.filter((r) => r.field === 'syncPush').length;
    await client.syncAll();
    expect(server.requests.filter((r) => r.field === 'syncPush')).toHaveLength(pushesBefore);
    expect(server.table('tenant-a', 'Space').map((r) => [r.data.name, r.version])).toEqual([['a', 1]]);
  });

  it('undo leaves alone an operation that may already have reached the server', async () => {
    const { client, server } = setup();
    const s = await client.spaces.create({ name: 'a', ownerId: 'u' });
    server.beforeRequest = () => {
      throw new TypeError('fetch failed');
    };
    await expect(client.syncAll()).rejects.toThrow();
    expect(await client.spaces.undo(s.id)).toBe(false);
    server.beforeRequest = null;
    await client.syncAll();
    expect(server.table('tenant-a', 'Space')).toHaveLength(1);
  });

  it('metrics report the database file size and are sent to onMetrics after every sync', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const server = new StubSyncServer(entities);
    const seen: { syncs: number; dbSizeBytes: number | null; queueSize: number }[] = [];
    const client = new AppClient({
      tenantId: 'tenant-a',
      token: TOKEN_A,
      url: URL,
      fetch: server.fetch,
      dbDir: tmp.dir,
      onMetrics: (m) => seen.push({ syncs: m.syncs, dbSizeBytes: m.dbSizeBytes, queueSize: m.queueSize }),
    });
    await client.spaces.createMany(Array.from({ length: 200 }, (_, i) => ({ name: `s${i}`, ownerId: 'u' })));
    const metrics = await client.metrics();
    expect(metrics.dbSizeBytes).toBeGreaterThan(4096);
    expect(metrics.queueSize).toBe(200);
    await client.syncAll();
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ syncs: 1, queueSize: 0, dbSizeBytes: expect.any(Number) });
    server.beforeRequest = () => {
      throw new TypeError('fetch failed');
    };
    await client.spaces.create({ name: 'x', ownerId: 'u' });
    await expect(client.syncAll()).rejects.toThrow();
    await expect.poll(() => seen.length).toBe(2);
    expect(seen[1]).toMatchObject({ syncs: 2, queueSize: 1 });

    const memory = new AppClient({ tenantId: 'tenant-m', url: URL, fetch: server.fetch, dbDir: ':memory:' });
    expect((await memory.metrics()).dbSizeBytes).toBeNull();
  });

  it('stops sending an operation the server keeps refusing after maxItemAttempts; retryGivenUp sends it again', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const server = new StubSyncServer(entities);
    const client = new AppClient({ tenantId: 'tenant-a', token: TOKEN_A, url: URL, fetch: server.fetch, dbDir: tmp.dir, maxItemAttempts: 3 });
    const bad = await client.spaces.create({ name: 'bad', ownerId: 'u' });
    const good = await client.spaces.create({ name: 'good', ownerId: 'u' });
    server.rejectItem = (_entity, item) => (item.name === 'bad' ? 'VALIDATION_FAILED' : null);
    const sent = (): number =>
      server.requests
        .filter((r) => r.field === 'syncPush')
        .flatMap((r) => r.variables.items as { name?: string }[])
        .filter((i) => i.name === 'bad').length;
    for (let i = 0; i < 5; i++) await client.syncAll();
    expect(sent()).toBe(3);
    expect((await client.givenUp()).map((op) => [op.entityId, op.attempts, op.lastError])).toEqual([
      [bad.id, 3, 'gave up: VALIDATION_FAILED: rejected by test: VALIDATION_FAILED'],
    ]);
    expect((await client.metrics()).givenUp).toBe(1);
    expect(await client.queueSize()).toBe(1); // still waiting, visible to the app
    expect(server.table('tenant-a', 'Space').map((r) => r.data.name)).toEqual(['good']);
    expect((await client.spaces.get(good.id))?.serverId).toBeTruthy();

    server.rejectItem = null;
    expect(await client.retryGivenUp()).toBe(1);
    await client.syncAll();
    expect(sent()).toBe(4);
    expect(await client.queueSize()).toBe(0);
    expect(server.table('tenant-a', 'Space').map((r) => r.data.name).sort()).toEqual(['bad', 'good']);
  });
});
