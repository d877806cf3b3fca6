/**
 * The server half of the sync contract (PRODUCT.md "Rules the server keeps"),
 * proved over HTTP against the GENERATED example server
 * (generated-example/server/app.module.ts) on SQLite and, when reachable,
 * PostgreSQL. Every test sends raw GraphQL with `Authorization: Bearer
 * dev:<tenant>:<user>` and asserts the real server state (responses and rows).
 * The rules themselves are written down in docs/server-contract.md.
 */
import { randomUUID } from 'node:crypto';

import { TrackhubCore } from 'trackhub-gen/runtime/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleDatabases, type RunningServer } from '../support/example-server.js';
import { SYNC_PULL as PULL, SYNC_PUSH as PUSH } from '../support/operations.js';

const databases = await exampleDatabases('server_contract');

const VALID_ENTITIES = 'Checklist, ChecklistItem, Company, Group, Hero, Project, Space, Task, TaskNote';

const SPACE_FIELDS = 'id clientId version updatedAt deletedAt name description kind color position ownerId coverUrl';

interface GqlError {
  message: string;
  extensions?: Record<string, any>;
}
interface GqlResponse {
  status: number;
  data?: Record<string, any> | null;
  errors?: GqlError[];
}
interface PushResult {
  clientId: string | null;
  id: string | null;
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  version: number | null;
  updatedAt: string | null;
  conflict: { serverData: any; clientData: any; serverVersion: number | null; resolutionSuggested: any } | null;
}
interface PullPage {
  items: Record<string, any>[];
  lastSyncAt: string;
  hasMore: boolean;
  cursor: string;
}

const token = (tenant: string, user = 'user') => `dev:${tenant}:${user}`;

describe.each(databases)('server contract over HTTP on $name', ({ provider, start }) => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function gql(query: string, variables: Record<string, unknown>, tenant: string | null): Promise<GqlResponse> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(tenant ? { authorization: `Bearer ${token(tenant)}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    let body: { data?: Record<string, any> | null; errors?: GqlError[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    return { status: res.status, ...body };
  }

  /** syncPush that must not fail as a request. */
  async function push(tenant: string, entity: string, items: unknown[]): Promise<PushResult[]> {
    const res = await gql(PUSH, { entity, items }, tenant);
    expect(res.errors).toBeUndefined();
    return res.data!.syncPush as PushResult[];
  }
  const pushOne = async (tenant: string, entity: string, item: unknown): Promise<PushResult> => (await push(tenant, entity, [item]))[0];

  async function pull(tenant: string, entity: string, args: { since?: string; limit?: number; cursor?: string | null } = {}): Promise<PullPage> {
    const res = await gql(PULL, { entity, ...args }, tenant);
    expect(res.errors).toBeUndefined();
    return res.data!.syncPull as PullPage;
  }

  async function create(tenant: string, entity: string, fields: Record<string, unknown>): Promise<PushResult> {
    const r = await pushOne(tenant, entity, { clientId: randomUUID(), ...fields });
    expect(r).toMatchObject({ success: true, version: 1 });
    return r;
  }

  /** Creates a record, then moves the server copy to version 2 ("another device"). */
  async function serverAhead(tenant: string, entity: string, fields: Record<string, unknown>, change: Record<string, unknown>): Promise<PushResult> {
    const created = await create(tenant, entity, fields);
    const moved = await pushOne(tenant, entity, { id: created.id, version: 1, ...change });
    expect(moved).toMatchObject({ success: true, version: 2 });
    return moved;
  }

  const row = (delegate: string, id: string) => server.prisma[delegate].findUnique({ where: { id } });

  // ------------------------------------------------------------------ 1. conflicts

  describe('conflict rules', () => {
    it('timestamp (Space): server newer -> CONFLICT with the server copy; equal -> CONFLICT; local newer -> applied, version+1', async () => {
      const t = 'conflict-ts';
      const r = await serverAhead(t, 'Space', { name: 'base', ownerId: 'alice' }, { name: 'server' });
      const serverTime = Date.parse(r.updatedAt!);

      const older = await pushOne(t, 'Space', { id: r.id, version: 1, name: 'device', updatedAt: new Date(serverTime - 1000).toISOString() });
      expect(older).toMatchObject({ success: false, errorCode: 'CONFLICT', id: r.id, version: 2 });
      expect(older.conflict).toMatchObject({
        serverVersion: 2,
        serverData: { id: r.id, name: 'server', version: 2, updatedAt: r.updatedAt },
        resolutionSuggested: { name: 'server', version: 2 },
        clientData: { name: 'device', version: 1 },
      });
      expect(await row('space', r.id!)).toMatchObject({ name: 'server', version: 2 });

      const equal = await pushOne(t, 'Space', { id: r.id, version: 1, name: 'device', updatedAt: new Date(serverTime).toISOString() });
      expect(equal).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2, serverData: { name: 'server' } } });
      expect(await row('space', r.id!)).toMatchObject({ name: 'server', version: 2 });

      const newer = await pushOne(t, 'Space', { id: r.id, version: 1, name: 'device', updatedAt: new Date(serverTime + 1000).toISOString() });
      expect(newer).toMatchObject({ success: true, errorCode: null, conflict: null, version: 3 });
      const after = await row('space', r.id!);
      expect(after).toMatchObject({ name: 'device', version: 3 });
      // The server stamps updatedAt itself: the device time only decided the conflict.
      expect(after.updatedAt.toISOString()).toBe(newer.updatedAt);
      expect(after.updatedAt.getTime()).not.toBe(serverTime + 1000);

      // No device time at all: the server copy wins.
      const none = await pushOne(t, 'Space', { id: r.id, version: 1, name: 'x' });
      expect(none).toMatchObject({ success: false, errorCode: 'CONFLICT', version: 3 });
    });

    it('serverWins (Company, tenant field workspaceId): a stale base is always a CONFLICT, nothing written', async () => {
      const t = 'conflict-sw';
      const r = await serverAhead(t, 'Company', { name: 'base' }, { name: 'server' });
      const res = await pushOne(t, 'Company', { id: r.id, version: 1, name: 'device', updatedAt: new Date(Date.now() + 60_000).toISOString() });
      expect(res).toMatchObject({
        success: false,
        errorCode: 'CONFLICT',
        conflict: { serverVersion: 2, serverData: { name: 'server' }, resolutionSuggested: { name: 'server' } },
      });
      expect(await row('company', r.id!)).toMatchObject({ workspaceId: t, name: 'server', version: 2 });
      // A current base is applied.
      expect(await pushOne(t, 'Company', { id: r.id, version: 2, name: 'device' })).toMatchObject({ success: true, version: 3 });
    });

    it('clientWins (Hero): a stale base is applied on top of the server copy (version+1)', async () => {
      const t = 'conflict-cw';
      const r = await serverAhead(t, 'Hero', { name: 'base', power: 1 }, { power: 7 });
      const res = await pushOne(t, 'Hero', { id: r.id, version: 1, name: 'device', updatedAt: '2000-01-01T00:00:00.000Z' });
      expect(res).toMatchObject({ success: true, version: 3 });
      // Partial update: fields absent from the item are left alone.
      expect(await row('hero', r.id!)).toMatchObject({ name: 'device', power: 7, version: 3 });
    });

    it('merge (ChecklistItem): disjoint field changes merge; the same field changed on both sides is a CONFLICT', async () => {
      const t = 'conflict-merge';
      const checklist = await create(t, 'Checklist', { title: 'parent' });
      const base = { label: 'base', done: false, position: 0, weight: 1 };
      const r = await serverAhead(t, 'ChecklistItem', { ...base, checklistId: checklist.id }, { position: 5 });

      const merged = await pushOne(t, 'ChecklistItem', { id: r.id, version: 1, ...base, done: true, _base: { done: false } });
      expect(merged).toMatchObject({ success: true, version: 3 });
      expect(await row('checklistItem', r.id!)).toMatchObject({ done: true, position: 5, label: 'base', version: 3 });

      const clash = await pushOne(t, 'ChecklistItem', {
        id: r.id,
        version: 2,
        ...base,
        position: 9,
        label: 'device',
        _base: { position: 0, label: 'base' },
      });
      expect(clash).toMatchObject({ success: false, errorCode: 'CONFLICT', version: 3 });
      expect(clash.errorMessage).toContain('position');
      expect(clash.conflict).toMatchObject({
        serverVersion: 3,
        serverData: { position: 5, label: 'base', done: true },
        resolutionSuggested: { position: 5, label: 'device', done: true },
      });
      expect(await row('checklistItem', r.id!)).toMatchObject({ position: 5, label: 'base', version: 3 });
    });

    it('update-after-delete is a CONFLICT under every strategy; a repeated delete is a no-op success', async () => {
      const t = 'conflict-tomb';
      for (const [entity, delegate, fields] of [
        ['Space', 'space', { name: 'n', ownerId: 'o' }],
        ['Hero', 'hero', { name: 'n' }],
        ['Company', 'company', { name: 'n' }],
      ] as const) {
        const c = await create(t, entity, fields);
        const del = await pushOne(t, entity, { id: c.id, version: 1, deletedAt: new Date().toISOString() });
        expect(del).toMatchObject({ success: true, version: 2 });
        const tomb = await row(delegate, c.id!);
        expect(tomb.deletedAt).toBeInstanceOf(Date);

        // Stale or current base, even with a newer device time and even under clientWins: no resurrection.
        for (const version of [1, 2]) {
          const edit = await pushOne(t, entity, { id: c.id, version, name: 'zombie', updatedAt: new Date(Date.now() + 60_000).toISOString() });
          expect(edit).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2 } });
          expect(edit.conflict!.serverData.deletedAt).toBe(tomb.deletedAt.toISOString());
        }
        const again = await pushOne(t, entity, { id: c.id, version: 1, deletedAt: new Date().toISOString() });
        expect(again).toMatchObject({ success: true, version: 2 });
        expect(await row(delegate, c.id!)).toMatchObject({ name: 'n', version: 2, deletedAt: tomb.deletedAt });
      }
    });

    it('delete-after-update (stale delete) follows the strategy', async () => {
      const t = 'conflict-del';
      const now = () => new Date().toISOString();
      const future = () => new Date(Date.now() + 60_000).toISOString();
      const past = '2000-01-01T00:00:00.000Z';

      // timestamp: the later edit wins.
      const s1 = await serverAhead(t, 'Space', { name: 'a', ownerId: 'o' }, { name: 'b' });
      expect(await pushOne(t, 'Space', { id: s1.id, version: 1, deletedAt: now(), updatedAt: past })).toMatchObject({ success: false, errorCode: 'CONFLICT' });
      expect((await row('space', s1.id!)).deletedAt).toBeNull();
      expect(await pushOne(t, 'Space', { id: s1.id, version: 1, deletedAt: now(), updatedAt: future() })).toMatchObject({ success: true, version: 3 });
      expect((await row('space', s1.id!)).deletedAt).toBeInstanceOf(Date);

      // serverWins and merge: the server's later update wins over a stale delete.
      const c = await serverAhead(t, 'Company', { name: 'a' }, { name: 'b' });
      expect(await pushOne(t, 'Company', { id: c.id, version: 1, deletedAt: now(), updatedAt: future() })).toMatchObject({ success: false, errorCode: 'CONFLICT' });
      expect(await row('company', c.id!)).toMatchObject({ deletedAt: null, version: 2 });
      const parent = await create(t, 'Checklist', { title: 'p' });
      const m = await serverAhead(t, 'ChecklistItem', { label: 'a', checklistId: parent.id }, { label: 'b' });
      expect(await pushOne(t, 'ChecklistItem', { id: m.id, version: 1, deletedAt: now() })).toMatchObject({ success: false, errorCode: 'CONFLICT' });
      expect(await row('checklistItem', m.id!)).toMatchObject({ deletedAt: null, version: 2 });

      // clientWins: the stale delete is applied.
      const h = await serverAhead(t, 'Hero', { name: 'a' }, { name: 'b' });
      expect(await pushOne(t, 'Hero', { id: h.id, version: 1, deletedAt: now() })).toMatchObject({ success: true, version: 3 });
      expect((await row('hero', h.id!)).deletedAt).toBeInstanceOf(Date);

      // Created and deleted offline before it ever synced: success without a record.
      const ghost = randomUUID();
      expect(await pushOne(t, 'Space', { clientId: ghost, name: 'g', ownerId: 'o', deletedAt: now() })).toMatchObject({ success: true, id: null, clientId: ghost });
      expect(await server.prisma.space.count({ where: { clientId: ghost } })).toBe(0);
    });
  });

  // ------------------------------------------------------------------ 2. per-item results

  it('user hooks: the example Space hook refuses a blank name on push and on the online create, writing nothing', async () => {
    const t = 'hooks';
    const [bad, good] = [randomUUID(), randomUUID()];
    const results = await push(t, 'Space', [
      { clientId: bad, name: '   ', ownerId: 'alice' },
      { clientId: good, name: 'fine', ownerId: 'alice' },
    ]);
    expect(results.map((r) => [r.success, r.errorCode, r.errorMessage])).toEqual([
      [false, 'VALIDATION_FAILED', 'name must not be blank'],
      [true, null, null],
    ]);
    const blankUpdate = await pushOne(t, 'Space', { id: results[1].id, version: 1, name: '' });
    expect([blankUpdate.success, blankUpdate.errorCode]).toEqual([false, 'VALIDATION_FAILED']);
    expect(await server.prisma.space.findMany({ where: { tenantId: t }, select: { name: true, version: true } })).toEqual([{ name: 'fine', version: 1 }]);
    const online = await gql('mutation { createSpace(input: { name: "", ownerId: "alice" }) { id } }', {}, t);
    expect(online.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    expect(online.errors?.[0]?.message).toBe('name must not be blank');
    expect(await server.prisma.space.count({ where: { tenantId: t } })).toBe(1);
  });

  it('per-item results: good items are applied, each bad one gets its code and writes nothing', async () => {
    const t = 'per-item';
    const existing = await create(t, 'Space', { name: 'existing', ownerId: 'alice' });
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const unknownId = randomUUID();
    const results = await push(t, 'Space', [
      { clientId: ids[0], name: 'good', ownerId: 'alice' },
      { clientId: ids[1], name: 42, ownerId: 'alice' }, // wrong type
      { clientId: ids[2], name: 'x', ownerId: 'alice', bogus: true }, // unknown field
      { clientId: ids[3], ownerId: 'alice' }, // missing required field on create
      { id: unknownId, version: 1, name: 'nope' }, // unknown id
      { clientId: ids[4], name: 'x', ownerId: 'alice', internalNotes: 'hi' }, // server-only field
      { id: existing.id, version: 1, position: 'first' }, // wrong type on update
      { id: existing.id, version: 1, name: 'updated' }, // good update
      { clientId: ids[5], name: 'good too', ownerId: 'alice', kind: 'PERSONAL' },
    ]);
    expect(results.map((r) => [r.success, r.errorCode])).toEqual([
      [true, null],
      [false, 'VALIDATION_FAILED'],
      [false, 'VALIDATION_FAILED'],
      [false, 'VALIDATION_FAILED'],
      [false, 'NOT_FOUND'],
      [false, 'FORBIDDEN_FIELD'],
      [false, 'VALIDATION_FAILED'],
      [true, null],
      [true, null],
    ]);
    expect(results[1]).toMatchObject({ clientId: ids[1], errorMessage: expect.stringContaining('name must be a string') });
    expect(results[2].errorMessage).toContain('unknown field bogus');
    expect(results[3].errorMessage).toContain('missing required field(s): name');
    expect(results[4]).toMatchObject({ id: unknownId, errorMessage: expect.stringContaining(unknownId) });
    expect(results[7]).toMatchObject({ id: existing.id, version: 2 });

    const rows = await server.prisma.space.findMany({ where: { tenantId: t }, orderBy: { name: 'asc' } });
    expect(rows.map((r: any) => [r.clientId, r.name, r.version])).toEqual(
      [
        [ids[0], 'good', 1],
        [ids[5], 'good too', 1],
        [(await row('space', existing.id!)).clientId, 'updated', 2],
      ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );
    expect(await server.prisma.space.count({ where: { id: unknownId } })).toBe(0);
  });

  it('values one database would refuse or alter are VALIDATION_FAILED on every database; edge values round-trip', async () => {
    const t = 'values';
    const bad = await push(t, 'Checklist', [
      { clientId: randomUUID(), title: 'nul \u0000 inside' }, // PostgreSQL text refuses NUL
      { clientId: randomUUID(), title: 'lone \ud800 surrogate' }, // not Unicode: PostgreSQL would store U+FFFD
      { clientId: randomUUID(), title: 't', metadata: { note: 'x\u0000' } }, // NUL in Json
      { clientId: randomUUID(), title: 't', metadata: { 'k\u0000': 1 } }, // NUL in a Json key
      { clientId: randomUUID(), title: 't', dueAt: '2021-02-29T00:00:00.000Z' }, // no such day (would roll over to March 1)
      { clientId: randomUUID(), title: 't', dueAt: '0000-01-01T00:00:00.000Z' }, // no year 0 in PostgreSQL
      { clientId: randomUUID(), title: 't', dueAt: '2021-01-01T24:00:00.000Z' },
      { clientId: 'nul\u0000client', title: 't' },
    ]);
    expect(bad.map((r) => r.errorCode)).toEqual(Array(8).fill('VALIDATION_FAILED'));
    expect(await server.prisma.checklist.count({ where: { tenantId: t } })).toBe(0);

    const good = [
      { clientId: randomUUID(), title: 'emoji 🚀 and ünïcödé', dueAt: '0001-01-01T00:00:00.000Z', metadata: { nested: [1, 'two', { three: null }] } },
      { clientId: randomUUID(), title: 'end of range', dueAt: '9999-12-31T23:59:59.999Z' },
      { clientId: randomUUID(), title: 'leap day, no offset = UTC', dueAt: '2024-02-29T12:30:00' },
      { clientId: randomUUID(), title: 'offset', dueAt: '2024-03-01T01:00:00+02:00' },
    ];
    const results = await push(t, 'Checklist', good);
    expect(results.map((r) => r.errorCode)).toEqual([null, null, null, null]);
    const pulled = await pull(t, 'Checklist');
    const byTitle = new Map(pulled.items.map((i) => [i.title, i]));
    expect(byTitle.get(good[0].title)).toMatchObject({ dueAt: '0001-01-01T00:00:00.000Z', metadata: good[0].metadata });
    expect(byTitle.get(good[1].title)!.dueAt).toBe('9999-12-31T23:59:59.999Z');
    expect(byTitle.get(good[2].title)!.dueAt).toBe('2024-02-29T12:30:00.000Z');
    expect(byTitle.get(good[3].title)!.dueAt).toBe('2024-02-29T23:00:00.000Z');
    // An id no row can have reads as not found on the typed path too.
    const weird = await gql(`query($id: ID!) { checklist(id: $id) { id } }`, { id: 'a\u0000b' }, t);
    expect(weird.errors).toBeUndefined();
    expect(weird.data!.checklist).toBeNull();
  });

  // ------------------------------------------------------------------ 3. pull paging

  describe('pull paging', () => {
    it('pages 2,500 rows sharing one updatedAt with limit 1000 by cursor: every id exactly once', async () => {
      const t = 'paging';
      const stamp = new Date(Date.now() - 60_000);
      await server.prisma.hero.createMany({
        data: Array.from({ length: 2500 }, (_, i) => ({ tenantId: t, clientId: randomUUID(), name: `hero ${i}`, updatedAt: stamp })),
      });
      // Noise in another tenant never shows up.
      await server.prisma.hero.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ tenantId: 'paging-other', name: `o${i}`, updatedAt: stamp })) });

      const seen = new Set<string>();
      const sizes: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res = await pull(t, 'Hero', { limit: 1000, cursor });
        sizes.push(res.items.length);
        for (const item of res.items) {
          expect(seen.has(item.id)).toBe(false);
          expect(item.updatedAt).toBe(stamp.toISOString());
          seen.add(item.id);
        }
        expect(res.cursor).toBeTypeOf('string');
        cursor = res.cursor;
        if (!res.hasMore) break;
      }
      expect(sizes).toEqual([1000, 1000, 500]);
      expect(seen.size).toBe(2500);
      const dbIds = (await server.prisma.hero.findMany({ where: { tenantId: t }, select: { id: true } })).map((r: any) => r.id);
      expect([...seen].sort()).toEqual(dbIds.sort());
      // Caught up: the next pull from the cursor is empty.
      expect(await pull(t, 'Hero', { limit: 1000, cursor })).toMatchObject({ items: [], hasMore: false });

      for (const limit of [0, 1001, -1]) {
        const bad = await gql(PULL, { entity: 'Hero', limit }, t);
        expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_LIMIT');
        expect(bad.errors?.[0]?.message).toContain('between 1 and 1000');
      }
      const badCursor = await gql(PULL, { entity: 'Hero', cursor: 'not-a-cursor' }, t);
      expect(badCursor.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
    });

    it('a push held open across a pull is not lost: the next pull from the returned cursor includes it', async () => {
      const t = 'horizon';
      const target = await create(t, 'Space', { name: 'before', ownerId: 'o' });
      const first = await pull(t, 'Space');
      expect(first.items.map((i) => i.id)).toEqual([target.id]);

      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held: Promise<unknown>;
      if (provider === 'postgresql') {
        // Over HTTP through the server's own write path: another transaction holds the
        // row lock, so the server's push (inside its transaction, holding the scope's
        // sync clock, its stamp taken) blocks in its UPDATE until we let go.
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const lock = server.prisma.$transaction(
          async (tx: any) => {
            await tx.$queryRawUnsafe('SELECT id FROM "Space" WHERE id = $1 FOR UPDATE', target.id);
            locked();
            await gate;
          },
          { timeout: 30_000 },
        );
        await isLocked;
        held = pushOne(t, 'Space', { id: target.id, version: 1, name: 'held' });
        // Wait until the push is in flight.
        const core = server.app.get(TrackhubCore);
        for (let i = 0; core.clock.pending === 0 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
        expect(core.clock.pending).toBe(1);
        held = Promise.all([held, lock]).then(([r]) => r);
      } else {
        // SQLite serialises writers, so the write is held open through the app's own
        // TrackhubCore: inside its transaction, holding the scope's clock, row stamped.
        const core = server.app.get(TrackhubCore);
        const space = core.registry.get('Space');
        held = core.clock.write(space, { tenantId: t, userId: 'u' }, 1, async (tx: any, stamp) => {
          await tx.space.update({ where: { id: target.id }, data: { name: 'held', version: 2, updatedAt: new Date(stamp) } });
          await gate;
          return { success: true, version: 2 };
        });
      }
      await new Promise((r) => setTimeout(r, 20));
      // A later write of the same tenant and entity: it waits for the held one (the
      // scope's clock), so it cannot commit before it and be pulled past it.
      const fastWrite = create(t, 'Space', { name: 'fast', ownerId: 'o' });
      expect(await Promise.race([fastWrite.then(() => 'committed'), new Promise((r) => setTimeout(() => r('waiting'), 150))])).toBe('waiting');

      const during = await pull(t, 'Space', { cursor: first.cursor });
      // Neither the held write nor the later one may be served: either would carry the
      // cursor past the held row.
      expect(during.items).toEqual([]);
      expect(during.hasMore).toBe(false);

      release();
      expect(await held).toMatchObject({ success: true, version: 2 });
      const fast = await fastWrite;
      const heldRow = await row('space', target.id!);
      expect(heldRow).toMatchObject({ name: 'held', version: 2 });
      expect(Date.parse(during.lastSyncAt)).toBeLessThan(heldRow.updatedAt.getTime());

      const next = await pull(t, 'Space', { cursor: during.cursor });
      expect(next.items.map((i) => [i.id, i.name, i.version]).sort()).toEqual(
        [
          [target.id, 'held', 2],
          [fast.id, 'fast', 1],
        ].sort(),
      );
      // since-only clients get it too.
      const viaSince = await pull(t, 'Space', { since: during.lastSyncAt });
      expect(viaSince.items.map((i) => i.name).sort()).toEqual(['fast', 'held']);
    });
  });

  // ------------------------------------------------------------------ 4. typed online CRUD

  it('typed online CRUD: get, paged list, create returns the server id, update/delete with expectedVersion, stale -> CONFLICT', async () => {
    const t = 'crud';
    const clientId = randomUUID();
    const created = await gql(
      `mutation($input: SpaceCreateInput!) { createSpace(input: $input) { ${SPACE_FIELDS} } }`,
      { input: { clientId, name: 'online', ownerId: 'alice', position: 3 } },
      t,
    );
    expect(created.errors).toBeUndefined();
    const s = created.data!.createSpace;
    expect(s).toMatchObject({ clientId, version: 1, name: 'online', kind: 'TEAM', position: 3, ownerId: 'alice', deletedAt: null });
    expect(await row('space', s.id)).toMatchObject({ tenantId: t, clientId, name: 'online', version: 1 });
    expect(s.updatedAt).toBe((await row('space', s.id)).updatedAt.toISOString());

    const got = await gql(`query($id: ID!) { space(id: $id) { ${SPACE_FIELDS} } }`, { id: s.id }, t);
    expect(got.data!.space).toEqual(s);

    for (let i = 0; i < 4; i++) {
      const r = await gql(`mutation($input: SpaceCreateInput!) { createSpace(input: $input) { id } }`, { input: { name: `s${i}`, ownerId: 'a' } }, t);
      expect(r.errors).toBeUndefined();
    }
    const listed: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: GqlResponse = await gql(
        `query($cursor: String) { spaces(limit: 2, cursor: $cursor) { items { id name } nextCursor } }`,
        { cursor },
        t,
      );
      expect(page.errors).toBeUndefined();
      expect(page.data!.spaces.items.length).toBeLessThanOrEqual(2);
      listed.push(...page.data!.spaces.items.map((x: any) => x.id));
      cursor = page.data!.spaces.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    const dbIds = (await server.prisma.space.findMany({ where: { tenantId: t }, select: { id: true } })).map((r: any) => r.id);
    expect(listed).toEqual([...dbIds].sort());

    const UPDATE = `mutation($id: ID!, $v: Int!, $input: SpaceUpdateInput!) { updateSpace(id: $id, expectedVersion: $v, input: $input) { ${SPACE_FIELDS} } }`;
    const DELETE = `mutation($id: ID!, $v: Int!) { deleteSpace(id: $id, expectedVersion: $v) { ${SPACE_FIELDS} } }`;
    const u = await gql(UPDATE, { id: s.id, v: 1, input: { name: 'v2' } }, t);
    expect(u.errors).toBeUndefined();
    expect(u.data!.updateSpace).toMatchObject({ id: s.id, version: 2, name: 'v2' });

    const stale = await gql(UPDATE, { id: s.id, v: 1, input: { name: 'stale' } }, t);
    expect(stale.data).toBeNull();
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', serverVersion: 2, current: { id: s.id, name: 'v2', version: 2 } });
    expect(stale.errors?.[0]?.extensions?.current).not.toHaveProperty('internalNotes');
    expect(stale.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
    const staleDelete = await gql(DELETE, { id: s.id, v: 1 }, t);
    expect(staleDelete.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', current: { version: 2 } });
    expect(await row('space', s.id)).toMatchObject({ name: 'v2', version: 2, deletedAt: null });

    const d = await gql(DELETE, { id: s.id, v: 2 }, t);
    expect(d.errors).toBeUndefined();
    expect(d.data!.deleteSpace).toMatchObject({ version: 3 });
    expect(d.data!.deleteSpace.deletedAt).toBeTypeOf('string');
    expect((await row('space', s.id)).deletedAt).toBeInstanceOf(Date);
    expect((await gql(`query($id: ID!) { space(id: $id) { id } }`, { id: s.id }, t)).data!.space).toBeNull();
    expect((await gql(UPDATE, { id: s.id, v: 3, input: { name: 'x' } }, t)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // Bad input on the typed path is a GraphQL error, nothing written.
    const bad = await gql(`mutation($input: SpaceCreateInput!) { createSpace(input: $input) { id } }`, { input: { name: 'x', ownerId: 'a', position: 'one' } }, t);
    expect(bad.errors?.length).toBeGreaterThan(0);
    expect(await server.prisma.space.count({ where: { tenantId: t } })).toBe(5);
    // No token: UNAUTHENTICATED.
    expect((await gql(`query($id: ID!) { space(id: $id) { id } }`, { id: s.id }, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  // ------------------------------------------------------------------ 5. tenancy and field rules

  describe('tenancy and field rules', () => {
    it("another tenant's id reads as not found: push update/delete, CRUD get/update/delete", async () => {
      const theirs = await create('tenancy-b', 'Space', { name: 'theirs', ownerId: 'bob' });
      const a = 'tenancy-a';
      expect(await pushOne(a, 'Space', { id: theirs.id, version: 1, name: 'stolen' })).toMatchObject({ success: false, errorCode: 'NOT_FOUND' });
      expect(await pushOne(a, 'Space', { id: theirs.id, version: 1, deletedAt: new Date().toISOString() })).toMatchObject({
        success: false,
        errorCode: 'NOT_FOUND',
      });
      expect((await gql(`query($id: ID!) { space(id: $id) { id name } }`, { id: theirs.id }, a)).data!.space).toBeNull();
      const upd = await gql(`mutation($id: ID!) { updateSpace(id: $id, expectedVersion: 1, input: { name: "stolen" }) { id } }`, { id: theirs.id }, a);
      expect(upd.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const del = await gql(`mutation($id: ID!) { deleteSpace(id: $id, expectedVersion: 1) { id } }`, { id: theirs.id }, a);
      expect(del.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      // Nor can a foreign key point into the other tenant.
      const g = await pushOne(a, 'Group', { clientId: randomUUID(), name: 'g', spaceId: theirs.id });
      expect(g).toMatchObject({ success: false, errorCode: 'VALIDATION_FAILED' });
      expect((await pull(a, 'Space')).items).toEqual([]);
      expect((await gql(`{ spaces { items { id } } }`, {}, a)).data!.spaces.items).toEqual([]);
      expect(await row('space', theirs.id!)).toMatchObject({ tenantId: 'tenancy-b', name: 'theirs', version: 1, deletedAt: null });

      // The same through an entity whose tenant field is workspaceId.
      const company = await create('tenancy-b', 'Company', { name: 'theirs' });
      expect(await pushOne(a, 'Company', { id: company.id, version: 1, name: 'stolen' })).toMatchObject({ errorCode: 'NOT_FOUND' });
      expect((await gql(`query($id: ID!) { company(id: $id) { id } }`, { id: company.id }, a)).data!.company).toBeNull();
      const cu = await gql(`mutation($id: ID!) { updateCompany(id: $id, expectedVersion: 1, input: { name: "stolen" }) { id } }`, { id: company.id }, a);
      expect(cu.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect((await pull(a, 'Company')).items).toEqual([]);
      expect(await row('company', company.id!)).toMatchObject({ workspaceId: 'tenancy-b', name: 'theirs', version: 1 });
    });

    it('the tenant field in a payload is ignored: the row keeps the token tenant (tenantId and workspaceId)', async () => {
      const a = 'tenant-field-a';
      const s = await pushOne(a, 'Space', { clientId: randomUUID(), name: 's', ownerId: 'o', tenantId: 'evil' });
      expect(s.success).toBe(true);
      expect(await row('space', s.id!)).toMatchObject({ tenantId: a });
      expect(await pushOne(a, 'Space', { id: s.id, version: 1, name: 's2', tenantId: 'evil' })).toMatchObject({ success: true, version: 2 });
      expect(await row('space', s.id!)).toMatchObject({ tenantId: a, name: 's2' });

      const c = await pushOne(a, 'Company', { clientId: randomUUID(), name: 'c', workspaceId: 'evil' });
      expect(c.success).toBe(true);
      expect(await row('company', c.id!)).toMatchObject({ workspaceId: a });
      expect(await pushOne(a, 'Company', { id: c.id, version: 1, name: 'c2', workspaceId: 'evil' })).toMatchObject({ success: true });
      expect(await row('company', c.id!)).toMatchObject({ workspaceId: a, name: 'c2' });
      expect(await server.prisma.space.count({ where: { tenantId: 'evil' } })).toBe(0);
      expect(await server.prisma.company.count({ where: { workspaceId: 'evil' } })).toBe(0);
      // The tenant field never travels to clients.
      const pulled = await pull(a, 'Company');
      expect(pulled.items).toHaveLength(1);
      expect(pulled.items[0]).not.toHaveProperty('workspaceId');
      expect((await pull(a, 'Space')).items[0]).not.toHaveProperty('tenantId');
    });

    it('@sync.ignore (Space.internalNotes) never leaves the server and cannot be pushed', async () => {
      const t = 'ignore';
      const s = await create(t, 'Space', { name: 's', ownerId: 'o' });
      await server.prisma.space.update({ where: { id: s.id }, data: { internalNotes: 'secret' } });

      const pulled = await pull(t, 'Space');
      expect(pulled.items).toHaveLength(1);
      expect(pulled.items[0]).not.toHaveProperty('internalNotes');
      expect(JSON.stringify(pulled)).not.toContain('secret');

      const got = await gql(`query($id: ID!) { space(id: $id) { ${SPACE_FIELDS} } }`, { id: s.id }, t);
      expect(JSON.stringify(got)).not.toContain('secret');
      const asked = await gql(`query($id: ID!) { space(id: $id) { id internalNotes } }`, { id: s.id }, t);
      expect(asked.errors?.[0]?.message).toContain('internalNotes');
      expect(JSON.stringify(asked)).not.toContain('secret');
      const listed = await gql(`{ spaces { items { ${SPACE_FIELDS} } } }`, {}, t);
      expect(listed.data!.spaces.items).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain('secret');

      // Conflict payloads do not leak it either.
      await pushOne(t, 'Space', { id: s.id, version: 1, name: 'v2' });
      const conflict = await pushOne(t, 'Space', { id: s.id, version: 1, name: 'old', updatedAt: '2000-01-01T00:00:00.000Z' });
      expect(conflict.errorCode).toBe('CONFLICT');
      expect(JSON.stringify(conflict)).not.toContain('secret');

      const write = await pushOne(t, 'Space', { id: s.id, version: 2, internalNotes: 'overwritten' });
      expect(write).toMatchObject({ success: false, errorCode: 'FORBIDDEN_FIELD' });
      expect(await row('space', s.id!)).toMatchObject({ internalNotes: 'secret', version: 2 });
    });

    it('@sync.readonly (Space.ownerId) is set on create and cannot be changed by an update push', async () => {
      const t = 'readonly';
      const s = await create(t, 'Space', { name: 's', ownerId: 'owner-1' });
      const u = await pushOne(t, 'Space', { id: s.id, version: 1, ownerId: 'hijack', color: 'red' });
      expect(u).toMatchObject({ success: true, version: 2 });
      expect(await row('space', s.id!)).toMatchObject({ ownerId: 'owner-1', color: 'red' });
      // Nor through the typed path (ownerId is not in SpaceUpdateInput at all).
      const crud = await gql(`mutation($id: ID!) { updateSpace(id: $id, expectedVersion: 2, input: { ownerId: "hijack" }) { id } }`, { id: s.id }, t);
      expect(crud.errors?.length).toBeGreaterThan(0);
      expect(await row('space', s.id!)).toMatchObject({ ownerId: 'owner-1', version: 2 });
    });

    it('the same clientId in two tenants creates two separate rows; a replay in one tenant does not duplicate', async () => {
      const clientId = randomUUID();
      const a = await pushOne('collide-a', 'Space', { clientId, name: 'a', ownerId: 'o' });
      const b = await pushOne('collide-b', 'Space', { clientId, name: 'b', ownerId: 'o' });
      expect(a.success && b.success).toBe(true);
      expect(a.id).not.toBe(b.id);
      const replay = await pushOne('collide-a', 'Space', { clientId, name: 'a', ownerId: 'o' });
      expect(replay).toMatchObject({ success: true, id: a.id, version: 1 });
      const rows = await server.prisma.space.findMany({ where: { clientId }, orderBy: { tenantId: 'asc' } });
      expect(rows.map((r: any) => [r.tenantId, r.name, r.id])).toEqual([
        ['collide-a', 'a', a.id],
        ['collide-b', 'b', b.id],
      ]);
    });
  });

  // ------------------------------------------------------------------ 6. input limits

  describe('input limits', () => {
    it('a push without a valid token is UNAUTHENTICATED and writes nothing', async () => {
      const clientId = randomUUID();
      for (const authorization of [undefined, 'Bearer garbage', 'Bearer dev:only-tenant', 'dev:t:u']) {
        const res = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ query: PUSH, variables: { entity: 'Space', items: [{ clientId, name: 'x', ownerId: 'o' }] } }),
        });
        const body = await res.json();
        expect(body.data).toBeNull();
        expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      expect(await server.prisma.space.count({ where: { clientId } })).toBe(0);
    });

    it('an unknown entity is a GraphQL error naming the valid ones', async () => {
      for (const res of [await gql(PULL, { entity: 'Spaceship' }, 'limits'), await gql(PUSH, { entity: 'AuditLog', items: [{ clientId: randomUUID() }] }, 'limits')]) {
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_ENTITY', validEntities: VALID_ENTITIES.split(', ') });
        expect(res.errors?.[0]?.message).toContain(VALID_ENTITIES);
      }
      expect(await server.prisma.auditLog.count()).toBe(0);
    });

    it('a batch over the maximum (1001 items) is BATCH_TOO_LARGE and writes nothing; 1000 realistic items pass the body limit', async () => {
      const t = 'limits-batch';
      const description = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(25); // ~1.4 kB
      const item = (i: number) => ({
        clientId: randomUUID(),
        name: `Space number ${i} with a realistic name`,
        description,
        kind: 'PERSONAL',
        color: '#a1b2c3',
        position: i,
        ownerId: `owner-${i % 7}`,
        coverUrl: `https://cdn.example.com/covers/${randomUUID()}.jpg`,
        updatedAt: new Date().toISOString(),
      });
      const tooMany = Array.from({ length: 1001 }, (_, i) => item(i));
      const big = await gql(PUSH, { entity: 'Space', items: tooMany }, t);
      expect(big.errors?.[0]?.extensions).toMatchObject({ code: 'BATCH_TOO_LARGE', maxBatchSize: 1000 });
      expect(big.data).toBeNull();
      expect(await server.prisma.space.count({ where: { tenantId: t } })).toBe(0);

      const batch = tooMany.slice(0, 1000);
      const bodySize = JSON.stringify({ query: PUSH, variables: { entity: 'Space', items: batch } }).length;
      expect(bodySize).toBeGreaterThan(1024 * 1024); // far above Express's default 100 kB
      const ok = await gql(PUSH, { entity: 'Space', items: batch }, t);
      expect(ok.status).toBe(200);
      expect(ok.errors).toBeUndefined();
      expect(ok.data!.syncPush).toHaveLength(1000);
      expect(ok.data!.syncPush.every((r: PushResult) => r.success)).toBe(true);
      expect(await server.prisma.space.count({ where: { tenantId: t } })).toBe(1000);
    });
  });

  // ------------------------------------------------------------------ 7. concurrency

  it('two devices pushing the same record from the same base at the same time: one wins per round, no lost update', async () => {
    const t = 'race';
    const rounds = 20;
    for (const [entity, delegate, fields] of [
      ['Space', 'space', { name: 'start', ownerId: 'o' }],
      ['Company', 'company', { name: 'start' }],
    ] as const) {
      const c = await create(t, entity, fields);
      let version = 1;
      for (let round = 0; round < rounds; round++) {
        // Same base version; the same device time, older than any server write (timestamp: the loser conflicts).
        const deviceTime = '2000-01-01T00:00:00.000Z';
        const [x, y] = await Promise.all(
          ['x', 'y'].map((dev) => pushOne(t, entity, { id: c.id, version, name: `${dev}-${round}`, updatedAt: deviceTime })),
        );
        const winners = [x, y].filter((r) => r.success);
        const losers = [x, y].filter((r) => !r.success);
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect(losers[0]).toMatchObject({ errorCode: 'CONFLICT', conflict: { serverVersion: version + 1 } });
        expect(winners[0].version).toBe(version + 1);
        // The loser sees exactly the winner's write.
        expect(losers[0].conflict!.serverData.name).toBe(winners[0] === x ? `x-${round}` : `y-${round}`);
        version++;
        expect(await row(delegate, c.id!)).toMatchObject({ version, name: winners[0] === x ? `x-${round}` : `y-${round}` });
      }
      expect((await row(delegate, c.id!)).version).toBe(1 + rounds);
    }

    if (provider === 'postgresql') {
      // Forced overlap: both pushes started from the same base version; the first waits on the
      // row lock, the second on the scope's clock; the second then reads the new version and conflicts.
      const core = server.app.get(TrackhubCore);
      for (const [entity, table] of [
        ['Space', 'Space'],
        ['Company', 'companies'],
      ] as const) {
        const c = await create(t, entity, { name: 'start', ...(entity === 'Space' ? { ownerId: 'o' } : {}) });
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const lock = server.prisma.$transaction(
          async (tx: any) => {
            await tx.$queryRawUnsafe(`SELECT id FROM "${table}" WHERE id = $1 FOR UPDATE`, c.id);
            locked();
            await gate;
          },
          { timeout: 30_000 },
        );
        await isLocked;
        const both = Promise.all(['x', 'y'].map((dev) => pushOne(t, entity, { id: c.id, version: 1, name: dev, updatedAt: '2000-01-01T00:00:00.000Z' })));
        for (let i = 0; core.clock.pending < 2 && i < 300; i++) await new Promise((r) => setTimeout(r, 10));
        expect(core.clock.pending).toBe(2);
        await new Promise((r) => setTimeout(r, 50)); // one waits in its UPDATE, the other for the scope's clock
        release();
        const [results] = await Promise.all([both, lock]);
        expect(results.map((r) => r.errorCode).sort()).toEqual(['CONFLICT', null].sort());
        const winner = results.find((r) => r.success)!;
        expect(winner.version).toBe(2);
        expect(results.find((r) => !r.success)!.conflict).toMatchObject({ serverVersion: 2 });
        expect(await row(entity === 'Space' ? 'space' : 'company', c.id!)).toMatchObject({ version: 2 });
      }
    }

    // merge: disjoint edits from the same base at the same time both land (version +2, nothing lost).
    const parent = await create(t, 'Checklist', { title: 'p' });
    const item = await create(t, 'ChecklistItem', { label: 'l', done: false, position: 0, checklistId: parent.id });
    let version = 1;
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all([
        pushOne(t, 'ChecklistItem', { id: item.id, version, label: `label-${round}`, _base: { label: round === 0 ? 'l' : `label-${round - 1}` } }),
        pushOne(t, 'ChecklistItem', { id: item.id, version, position: round + 1, _base: { position: round } }),
      ]);
      expect(results.map((r) => r.success)).toEqual([true, true]);
      version += 2;
      expect(await row('checklistItem', item.id!)).toMatchObject({ version, label: `label-${round}`, position: round + 1 });
    }

    // Typed online path: same expectedVersion at the same time -> one update, one CONFLICT.
    const s = await create(t, 'Space', { name: 'crud', ownerId: 'o' });
    const UPDATE = `mutation($id: ID!, $v: Int!, $name: String!) { updateSpace(id: $id, expectedVersion: $v, input: { name: $name }) { version name } }`;
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(['x', 'y'].map((dev) => gql(UPDATE, { id: s.id, v: round + 1, name: `${dev}-${round}` }, t)));
      const ok = results.filter((r) => !r.errors);
      const conflicts = results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT');
      expect([ok.length, conflicts.length]).toEqual([1, 1]);
      expect(ok[0].data!.updateSpace.version).toBe(round + 2);
      expect(conflicts[0].errors![0].extensions!.current).toMatchObject({ version: round + 2, name: ok[0].data!.updateSpace.name });
    }
    expect((await row('space', s.id!)).version).toBe(1 + rounds);

    // Idempotent creates racing on one clientId: one row, both told its id.
    for (let round = 0; round < rounds; round++) {
      const clientId = randomUUID();
      const results = await Promise.all([0, 1].map(() => pushOne(t, 'Hero', { clientId, name: 'twin' })));
      expect(results.map((r) => r.success)).toEqual([true, true]);
      expect(results[0].id).toBe(results[1].id);
      expect(await server.prisma.hero.count({ where: { tenantId: t, clientId } })).toBe(1);
    }
  });
});
