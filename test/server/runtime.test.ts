/**
 * The server runtime against real Prisma (no mocks) on SQLite, and on
 * PostgreSQL when one is reachable (skipped with a visible warning otherwise):
 * sync pull/push, conflict strategies, tenancy, auth and the online CRUD service.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CrudService,
  decodePullCursor,
  devTokenVerifier,
  SyncErrorCode,
  TrackhubCore,
  TrackhubError,
  type EntityDescriptor,
  type Principal,
  type SyncResult,
} from '../../src/runtime/server/index.js';
import { contextFor, fixtureDescriptors } from './support/fixture.js';
import { fixtureVariants, type TestDatabase } from './support/prisma.js';


describe.each(await fixtureVariants('server_runtime'))('runtime on $provider', ({ connect, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  const A: Principal = { tenantId: 'tenant-a', userId: 'alice' };
  const B: Principal = { tenantId: 'tenant-b', userId: 'bob' };

  let db: TestDatabase;
  let descriptors: EntityDescriptor[];
  let core: TrackhubCore;
  const silent = { error: () => {} };

  beforeAll(async () => {
    db = await connect();
    descriptors = await fixtureDescriptors();
    core = new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, logger: silent }, descriptors);
  });

  afterAll(async () => {
    await db?.close();
  });

  const push = (entity: string, items: unknown[], who: Principal = A): Promise<SyncResult[]> => core.sync.push(who, entity, items);
  const pushOne = async (entity: string, item: unknown, who: Principal = A): Promise<SyncResult> => (await push(entity, [item], who))[0];

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(TrackhubError);
      return (error as TrackhubError).extensions.code as string;
    }
    throw new Error('expected an error');
  }

  async function newSpace(who: Principal = A, extra: Record<string, unknown> = {}): Promise<SyncResult> {
    const r = await pushOne('Space', { clientId: randomUUID(), name: 'Space', ownerId: who.userId, ...extra }, who);
    expect(r).toMatchObject({ success: true, version: 1 });
    return r;
  }

  describe('syncPull', () => {
    it('pages 2,500 rows sharing one updatedAt with limit 1000: no skip, no repeat (cursor)', async () => {
      const tenant: Principal = { tenantId: 'bulk', userId: 'u' };
      const stamp = new Date(Date.now() - 60_000);
      const rows = Array.from({ length: 2500 }, (_, i) => ({
        tenantId: tenant.tenantId,
        clientId: randomUUID(),
        name: `hero ${i}`,
        updatedAt: stamp,
      }));
      await db.prisma.hero.createMany({ data: rows });

      const seen = new Set<string>();
      const sizes: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res = await core.sync.pull(tenant, 'Hero', { limit: 1000, cursor });
        sizes.push(res.items.length);
        for (const item of res.items) {
          expect(seen.has(item.id as string)).toBe(false);
          seen.add(item.id as string);
        }
        cursor = res.cursor;
        if (!res.hasMore) break;
      }
      expect(sizes).toEqual([1000, 1000, 500]);
      expect(seen.size).toBe(2500);
      // Caught up: the next pull is empty.
      const again = await core.sync.pull(tenant, 'Hero', { limit: 1000, cursor });
      expect(again).toMatchObject({ items: [], hasMore: false });
    });

    it('reads the watermarks of concurrent pulls with one query, and answers each page as it would alone', async () => {
      const tenant: Principal = { tenantId: `wm-${randomUUID()}`, userId: 'u' };
      await push('Space', [{ clientId: randomUUID(), name: 'a space', ownerId: 'u' }], tenant);
      await push('Hero', [{ clientId: randomUUID(), name: 'a hero' }], tenant);
      const entities = ['Space', 'Hero', 'Group'];
      // A first pull stamps a scope that has never been written (Group here): from then on its pages are stable.
      for (const entity of entities) await core.sync.pull(tenant, entity, {});
      const alone: Array<Awaited<ReturnType<typeof core.sync.pull>>> = [];
      for (const entity of entities) alone.push(await core.sync.pull(tenant, entity, {}));
      expect(alone.map((page) => page.items.length)).toEqual([1, 1, 0]);

      const clock = db.prisma.trackhubSyncClock as { findMany: (...args: unknown[]) => Promise<unknown>; findFirst: (...args: unknown[]) => Promise<unknown> };
      const calls = { findMany: 0, findFirst: 0 };
      const original = { findMany: clock.findMany, findFirst: clock.findFirst };
      clock.findMany = (...args) => (calls.findMany++, original.findMany.apply(clock, args));
      clock.findFirst = (...args) => (calls.findFirst++, original.findFirst.apply(clock, args));
      try {
        const together = await Promise.all(entities.map((entity) => core.sync.pull(tenant, entity, {})));
        // The same pages, but for when each read its table (`checkedAt` in the cursor).
        const position = (page: (typeof alone)[number]) => ({ ...page, cursor: { ...decodePullCursor(page.cursor), checkedAt: 'any' } });
        expect(together.map(position)).toEqual(alone.map(position));
        expect(calls).toEqual({ findMany: 1, findFirst: 0 });
        // Caught up, from each page's cursor: empty pages, still one read of the three watermarks.
        const next = await Promise.all(entities.map((entity, i) => core.sync.pull(tenant, entity, { cursor: alone[i]!.cursor })));
        expect(next.map((page) => [page.items.length, page.hasMore, page.cursor])).toEqual(alone.map((page) => [0, false, page.cursor]));
        expect(calls).toEqual({ findMany: 2, findFirst: 0 });
      } finally {
        clock.findMany = original.findMany;
        clock.findFirst = original.findFirst;
      }
    });

    it('with since only, never ends a page inside a group of equal updatedAt it can end before', async () => {
      const tenant: Principal = { tenantId: 'bulk-since', userId: 'u' };
      const t0 = Date.now() - 50_000;
      const mk = (n: number, at: number, prefix: string) =>
        Array.from({ length: n }, (_, i) => ({ tenantId: tenant.tenantId, name: `${prefix}${i}`, updatedAt: new Date(at) }));
      await db.prisma.hero.createMany({ data: [...mk(5, t0, 'a'), ...mk(900, t0 + 1, 'b'), ...mk(200, t0 + 2, 'c')] });

      const seen = new Set<string>();
      const sizes: number[] = [];
      let since: Date | null = null;
      for (let page = 0; page < 10; page++) {
        const res = await core.sync.pull(tenant, 'Hero', { limit: 1000, since });
        sizes.push(res.items.length);
        for (const item of res.items) {
          expect(seen.has(item.id as string)).toBe(false);
          seen.add(item.id as string);
        }
        since = res.lastSyncAt;
        if (!res.hasMore) break;
      }
      // The page stops before the 200-row group instead of cutting it.
      expect(sizes).toEqual([905, 200]);
      expect(seen.size).toBe(1105);
    });

    it('never lets lastSyncAt pass an undelivered row, even inside an oversize group', async () => {
      const tenant: Principal = { tenantId: 'bulk-watermark', userId: 'u' };
      const at = Date.now() - 40_000;
      await db.prisma.hero.createMany({
        data: Array.from({ length: 30 }, (_, i) => ({ tenantId: tenant.tenantId, name: `w${i}`, updatedAt: new Date(at) })),
      });
      const first = await core.sync.pull(tenant, 'Hero', { limit: 10 });
      expect(first.items).toHaveLength(10);
      expect(first.hasMore).toBe(true);
      expect(first.lastSyncAt.getTime()).toBe(at - 1);
      const rest = await core.sync.pull(tenant, 'Hero', { limit: 25, cursor: first.cursor });
      expect(rest.items).toHaveLength(20);
      expect(rest.hasMore).toBe(false);
      expect(rest.lastSyncAt.getTime()).toBeGreaterThanOrEqual(at);
    });

    it('a write held open (inside its transaction, row stamped) is pulled once it commits; a later write waits for it', async () => {
      const tenant: Principal = { tenantId: 'horizon', userId: 'u' };
      const before = await core.sync.pull(tenant, 'Hero', {});
      expect(before.items).toEqual([]);

      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let stamped!: () => void;
      const isStamped = new Promise<void>((resolve) => (stamped = resolve));
      const hero = descriptors.find((x) => x.name === 'Hero')!;
      // A write that has stamped its row but not committed: it holds the scope's clock.
      const slow = core.clock.write(hero, tenant, 1, async (tx: any, stamp) => {
        await tx.hero.create({ data: { tenantId: tenant.tenantId, name: 'slow', updatedAt: new Date(stamp) } });
        stamped();
        await gate;
      });
      await isStamped;
      // A later write of the same scope waits for the clock (it cannot commit first).
      const fast = pushOne('Hero', { clientId: randomUUID(), name: 'fast' }, tenant);
      const raced = await Promise.race([fast.then(() => 'committed'), new Promise((r) => setTimeout(() => r('waiting'), 100))]);
      expect(raced).toBe('waiting');

      const during = await core.sync.pull(tenant, 'Hero', { since: before.lastSyncAt });
      expect(during.items).toEqual([]);

      release();
      await slow;
      expect((await fast).success).toBe(true);
      const slowRow = await db.prisma.hero.findFirst({ where: { tenantId: tenant.tenantId, name: 'slow' } });
      const fastRow = await db.prisma.hero.findFirst({ where: { tenantId: tenant.tenantId, name: 'fast' } });
      expect(fastRow.updatedAt.getTime()).toBeGreaterThan(slowRow.updatedAt.getTime());
      expect(during.lastSyncAt.getTime()).toBeLessThan(slowRow.updatedAt.getTime());
      const after = await core.sync.pull(tenant, 'Hero', { since: during.lastSyncAt });
      expect(after.items.map((i) => i.name)).toEqual(['slow', 'fast']);
      const viaCursor = await core.sync.pull(tenant, 'Hero', { cursor: during.cursor });
      expect(viaCursor.items.map((i) => i.name)).toEqual(['slow', 'fast']);
    });

    it('stamps follow commit order per scope whatever the clock says: a clock 10 s behind still stamps after the last write', async () => {
      let skew = 0;
      const skewed = new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, logger: silent, clock: () => Date.now() + skew }, descriptors);
      const tenant: Principal = { tenantId: 'skewed-clock', userId: 'u' };
      const push = async (name: string) =>
        (await skewed.sync.push(tenant, 'Hero', [{ clientId: randomUUID(), name }]))[0]!;
      skew = 10_000;
      const ahead = await push('ahead');
      skew = -10_000;
      const behind = await push('behind');
      expect(behind.updatedAt!.getTime()).toBe(ahead.updatedAt!.getTime() + 1);
      // A chunk of items gets one ms each, still after the last stamp.
      const chunk = await skewed.sync.push(tenant, 'Hero', [1, 2, 3].map((i) => ({ clientId: randomUUID(), name: `c${i}` })));
      expect(chunk.map((r) => r.updatedAt!.getTime() - behind.updatedAt!.getTime())).toEqual([1, 2, 3]);
      const first = await skewed.sync.pull(tenant, 'Hero', { limit: 2 });
      const rest = await skewed.sync.pull(tenant, 'Hero', { since: first.lastSyncAt });
      expect([...first.items, ...rest.items].map((i) => i.name)).toEqual(['ahead', 'behind', 'c1', 'c2', 'c3']);
    });

    it('the first write of a scope continues after rows stamped before the clock existed (an upgraded database)', async () => {
      const tenant: Principal = { tenantId: 'upgraded', userId: 'u' };
      const future = new Date(Date.now() + 60_000);
      await db.prisma.hero.create({ data: { tenantId: tenant.tenantId, name: 'old', updatedAt: future } });
      const first = await core.sync.pull(tenant, 'Hero', {});
      expect(first.items.map((i) => i.name)).toEqual(['old']);
      const [created] = await core.sync.push(tenant, 'Hero', [{ clientId: randomUUID(), name: 'new' }]);
      // The pull stamped the scope just after the old row (future + 1), the write comes next.
      expect(created!.updatedAt!.getTime()).toBe(future.getTime() + 2);
      const next = await core.sync.pull(tenant, 'Hero', { since: first.lastSyncAt });
      expect(next.items.map((i) => i.name)).toEqual(['new']);
    });

    it('returns the wire shape: synced fields + conventions, ISO dates, JSON values; never ignored or tenant fields', async () => {
      const space = await newSpace(A, { description: 'd', kind: 'PERSONAL' });
      await db.prisma.space.update({ where: { id: space.id }, data: { internalNotes: 'secret' } });
      const cl = await pushOne('Checklist', {
        clientId: randomUUID(),
        title: 'T',
        dueAt: '2030-01-02T03:04:05.678Z',
        metadata: { tags: ['x'], n: 1 },
        spaceId: space.id,
      });
      expect(cl.success).toBe(true);
      const spaces = await core.sync.pull(A, 'Space', {});
      const s = spaces.items.find((i) => i.id === space.id)!;
      expect(Object.keys(s).sort()).toEqual(
        ['clientId', 'color', 'coverUrl', 'deletedAt', 'description', 'id', 'kind', 'name', 'ownerId', 'position', 'updatedAt', 'version'].sort(),
      );
      expect(s.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(s.deletedAt).toBeNull();
      const c = (await core.sync.pull(A, 'Checklist', {})).items.find((i) => i.id === cl.id)!;
      expect(c).toMatchObject({ dueAt: '2030-01-02T03:04:05.678Z', metadata: { tags: ['x'], n: 1 }, status: 'OPEN', spaceId: space.id });
    });

    it('is tenant-scoped', async () => {
      await newSpace(B, { name: 'only-b' });
      const a = await core.sync.pull(A, 'Space', {});
      expect(a.items.some((i) => i.name === 'only-b')).toBe(false);
      const b = await core.sync.pull(B, 'Space', {});
      expect(b.items.some((i) => i.name === 'only-b')).toBe(true);
    });

    it('refuses a bad limit, a bad cursor and an unknown entity (naming the valid ones)', async () => {
      expect(await codeOf(core.sync.pull(A, 'Space', { limit: 0 }))).toBe(SyncErrorCode.INVALID_LIMIT);
      expect(await codeOf(core.sync.pull(A, 'Space', { limit: 1001 }))).toBe(SyncErrorCode.INVALID_LIMIT);
      expect(await codeOf(core.sync.pull(A, 'Space', { cursor: 'nope' }))).toBe(SyncErrorCode.INVALID_CURSOR);
      const err = await core.sync.pull(A, 'Spaceship', {}).catch((e: TrackhubError) => e);
      expect(err).toBeInstanceOf(TrackhubError);
      expect((err as TrackhubError).extensions.code).toBe(SyncErrorCode.UNKNOWN_ENTITY);
      expect((err as TrackhubError).message).toContain('Checklist, ChecklistItem, Company, Group, Hero, Project, Space, Task, TaskNote');
      expect(await codeOf(push('AuditLog', []))).toBe(SyncErrorCode.UNKNOWN_ENTITY);
    });
  });

  describe('syncPush', () => {
    it('creates idempotently on (tenant, clientId): a replay returns the same record', async () => {
      const clientId = randomUUID();
      const item = { clientId, name: 'Idem', ownerId: 'alice' };
      const [first] = await push('Space', [item]);
      const [second] = await push('Space', [item]);
      const [third] = await push('Space', [{ ...item, name: 'changed' }]);
      expect(first).toMatchObject({ success: true, clientId, version: 1 });
      expect(second).toMatchObject({ success: true, id: first.id, version: 1 });
      expect(third).toMatchObject({ success: true, id: first.id, version: 1 });
      expect(await db.prisma.space.count({ where: { tenantId: A.tenantId, clientId } })).toBe(1);
      // The same clientId in another tenant is another record.
      const other = await pushOne('Space', item, B);
      expect(other.success).toBe(true);
      expect(other.id).not.toBe(first.id);
      // Concurrent duplicates in one batch and across batches.
      const dup = randomUUID();
      const results = await Promise.all([
        push('Space', [{ clientId: dup, name: 'x', ownerId: 'a' }]),
        push('Space', [{ clientId: dup, name: 'x', ownerId: 'a' }]),
      ]);
      expect(new Set(results.map(([r]) => r.id)).size).toBe(1);
      expect(await db.prisma.space.count({ where: { clientId: dup } })).toBe(1);
    });

    it('sets version and updatedAt itself and ignores the tenant in a payload', async () => {
      const r = await pushOne('Space', {
        clientId: randomUUID(),
        name: 'x',
        ownerId: 'alice',
        tenantId: 'tenant-b',
        version: undefined,
        updatedAt: '2000-01-01T00:00:00.000Z',
        createdAt: '2000-01-01T00:00:00.000Z',
      });
      expect(r.success).toBe(true);
      const row = await db.prisma.space.findFirst({ where: { id: r.id } });
      expect(row.tenantId).toBe('tenant-a');
      expect(row.version).toBe(1);
      expect(row.updatedAt.getTime()).toBeGreaterThan(Date.parse('2020-01-01'));
      const u = await pushOne('Space', { id: r.id, version: 1, name: 'y', updatedAt: '2000-01-01T00:00:00.000Z', tenantId: 'tenant-b' });
      expect(u).toMatchObject({ success: true, version: 2 });
      const after = await db.prisma.space.findFirst({ where: { id: r.id } });
      expect(after).toMatchObject({ name: 'y', version: 2, tenantId: 'tenant-a' });
      expect(after.updatedAt.getTime()).toBeGreaterThan(row.updatedAt.getTime() - 1);
    });

    it('ignores readonly fields on update but accepts them on create', async () => {
      const s = await newSpace(A, { ownerId: 'owner-1' });
      const u = await pushOne('Space', { id: s.id, version: 1, ownerId: 'hijack', color: 'red' });
      expect(u.success).toBe(true);
      const row = await db.prisma.space.findFirst({ where: { id: s.id } });
      expect(row).toMatchObject({ ownerId: 'owner-1', color: 'red' });
    });

    it('soft-deletes (version+1) and the tombstone is pulled; a replayed delete is a no-op', async () => {
      const since = new Date(Date.now() - 1);
      const s = await newSpace();
      const del = await pushOne('Space', { id: s.id, version: 1, deletedAt: new Date().toISOString() });
      expect(del).toMatchObject({ success: true, version: 2 });
      const again = await pushOne('Space', { id: s.id, version: 1, deletedAt: new Date().toISOString() });
      expect(again).toMatchObject({ success: true, version: 2 });
      const row = await db.prisma.space.findFirst({ where: { id: s.id } });
      expect(row.deletedAt).toBeInstanceOf(Date);
      const pulled = await core.sync.pull(A, 'Space', { since });
      const tomb = pulled.items.find((i) => i.id === s.id)!;
      expect(tomb.deletedAt).toBe(row.deletedAt.toISOString());
      expect(tomb.version).toBe(2);
      // Editing a tombstone is a conflict that shows the deletion.
      const edit = await pushOne('Space', { id: s.id, version: 1, name: 'zombie' });
      expect(edit).toMatchObject({ success: false, errorCode: 'CONFLICT' });
      expect((edit.conflict!.serverData as Record<string, unknown>).deletedAt).toBe(row.deletedAt.toISOString());
    });

    it('returns per-item errors; one bad item never fails the batch and writes nothing', async () => {
      const space = await newSpace();
      const ok1 = randomUUID();
      const ok2 = randomUUID();
      const before = await db.prisma.space.count();
      const results = await push('Space', [
        { clientId: ok1, name: 'good', ownerId: 'alice' },
        { clientId: randomUUID(), name: 42, ownerId: 'alice' }, // wrong type
        { clientId: randomUUID(), name: 'x', ownerId: 'alice', bogus: 1 }, // unknown field
        { clientId: randomUUID(), ownerId: 'alice' }, // missing required
        { clientId: randomUUID(), name: 'x', ownerId: 'alice', internalNotes: 'hi' }, // server-only field
        { clientId: randomUUID(), name: 'x', ownerId: 'alice', kind: 'GALAXY' }, // bad enum
        { clientId: randomUUID(), name: 'x', ownerId: 'alice', position: 1.5 }, // not an Int
        { id: randomUUID(), version: 1, name: 'nope' }, // unknown id
        'not an object',
        { name: 'no client id', ownerId: 'alice' }, // a create needs a clientId
        { id: space.id, version: 1, name: null }, // null for a required field
        { clientId: ok2, name: 'good too', ownerId: 'alice' },
      ]);
      expect(results.map((r) => r.errorCode)).toEqual([
        null,
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'FORBIDDEN_FIELD',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'NOT_FOUND',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        null,
      ]);
      expect(results[1].errorMessage).toContain('name must be a string');
      expect(results[2].errorMessage).toContain('unknown field bogus');
      expect(results[3].errorMessage).toContain('missing required field(s): name');
      expect(results[1].clientId).toBeTypeOf('string');
      expect(await db.prisma.space.count()).toBe(before + 2);
      expect((await db.prisma.space.findFirst({ where: { id: space.id } })).version).toBe(1);
    });

    it("refuses an oversize batch as a whole (nothing written)", async () => {
      const small = new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, maxBatchSize: 3, logger: silent }, descriptors);
      const tag = randomUUID();
      const items = Array.from({ length: 4 }, () => ({ clientId: randomUUID(), name: tag, ownerId: 'a' }));
      expect(await codeOf(small.sync.push(A, 'Space', items))).toBe(SyncErrorCode.BATCH_TOO_LARGE);
      expect(await db.prisma.space.count({ where: { name: tag } })).toBe(0);
      expect(await small.sync.push(A, 'Space', items.slice(0, 3))).toHaveLength(3);
    });

    it('reads another tenant’s id as not found, and refuses a foreign key into another tenant', async () => {
      const bSpace = await newSpace(B);
      const r = await pushOne('Space', { id: bSpace.id, version: 1, name: 'stolen' });
      expect(r).toMatchObject({ success: false, errorCode: 'NOT_FOUND' });
      const del = await pushOne('Space', { id: bSpace.id, version: 1, deletedAt: new Date().toISOString() });
      expect(del.errorCode).toBe('NOT_FOUND');
      const g = await pushOne('Group', { clientId: randomUUID(), name: 'g', spaceId: bSpace.id });
      expect(g).toMatchObject({ success: false, errorCode: 'VALIDATION_FAILED' });
      expect(g.errorMessage).toContain('spaceId');
      expect((await db.prisma.space.findFirst({ where: { id: bSpace.id } })).name).toBe('Space');
    });

    it('translates a foreign key holding a parent clientId into the parent server id', async () => {
      const spaceClientId = randomUUID();
      const [space, group] = [
        await pushOne('Space', { clientId: spaceClientId, name: 'offline parent', ownerId: 'a' }),
        await pushOne('Group', { clientId: randomUUID(), name: 'child', spaceId: spaceClientId }),
      ];
      expect(group.success).toBe(true);
      const row = await db.prisma.group.findFirst({ where: { id: group.id } });
      expect(row.spaceId).toBe(space.id);
      // In an update too.
      const other = await newSpace();
      const otherRow = await db.prisma.space.findFirst({ where: { id: other.id } });
      const u = await pushOne('Group', { id: group.id, version: 1, spaceId: otherRow.clientId });
      expect(u.success).toBe(true);
      expect((await db.prisma.group.findFirst({ where: { id: group.id } })).spaceId).toBe(other.id);
    });

    it('updates by clientId when the device does not know the server id yet', async () => {
      const clientId = randomUUID();
      const s = await pushOne('Space', { clientId, name: 'a', ownerId: 'a' });
      const u = await pushOne('Space', { clientId, version: 1, name: 'b' });
      expect(u).toMatchObject({ success: true, id: s.id, version: 2 });
    });
  });

  describe('conflict strategies', () => {
    /** Creates a record, then moves the server copy to version 2 ("another device"). */
    async function serverAhead(entity: string, create: Record<string, unknown>, serverChange: Record<string, unknown>) {
      const created = await pushOne(entity, { clientId: randomUUID(), ...create });
      expect(created.success).toBe(true);
      const moved = await pushOne(entity, { id: created.id, version: 1, ...serverChange });
      expect(moved).toMatchObject({ success: true, version: 2 });
      return moved;
    }

    it('timestamp: server newer -> CONFLICT with server data; local newer -> applied; equal -> CONFLICT', async () => {
      const r = await serverAhead('Checklist', { title: 'base' }, { title: 'server' });
      const serverTime = r.updatedAt!.getTime();

      const older = await pushOne('Checklist', { id: r.id, version: 1, title: 'device', updatedAt: new Date(serverTime - 1000).toISOString() });
      expect(older).toMatchObject({ success: false, errorCode: 'CONFLICT', version: 2 });
      expect(older.conflict).toMatchObject({ serverVersion: 2, serverData: { title: 'server', version: 2 }, resolutionSuggested: { title: 'server' } });
      expect(older.conflict!.clientData).toMatchObject({ title: 'device' });

      const equal = await pushOne('Checklist', { id: r.id, version: 1, title: 'device', updatedAt: new Date(serverTime).toISOString() });
      expect(equal).toMatchObject({ success: false, errorCode: 'CONFLICT' });

      const newer = await pushOne('Checklist', { id: r.id, version: 1, title: 'device', updatedAt: new Date(serverTime + 1000).toISOString() });
      expect(newer).toMatchObject({ success: true, version: 3 });
      expect((await db.prisma.checklist.findFirst({ where: { id: r.id } })).title).toBe('device');

      // Without a device time the server copy wins.
      const none = await pushOne('Checklist', { id: r.id, version: 1, title: 'x' });
      expect(none.errorCode).toBe('CONFLICT');
    });

    it('timestamp: a stale update that matches the server (a replay) succeeds without a write', async () => {
      const r = await serverAhead('Checklist', { title: 'base' }, { title: 'same' });
      const replay = await pushOne('Checklist', { id: r.id, version: 1, title: 'same', updatedAt: '2000-01-01T00:00:00.000Z' });
      expect(replay).toMatchObject({ success: true, version: 2 });
    });

    it('serverWins: a stale base is always a CONFLICT carrying the server data', async () => {
      const r = await serverAhead('Company', { name: 'base' }, { name: 'server' });
      const res = await pushOne('Company', { id: r.id, version: 1, name: 'device', updatedAt: new Date(Date.now() + 60_000).toISOString() });
      expect(res).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2, serverData: { name: 'server' } } });
      // Company's tenant field is workspaceId.
      const row = await db.prisma.company.findFirst({ where: { id: r.id } });
      expect(row).toMatchObject({ workspaceId: A.tenantId, name: 'server' });
    });

    it('clientWins: a stale base is applied (version+1)', async () => {
      const r = await serverAhead('Hero', { name: 'base' }, { name: 'server' });
      const res = await pushOne('Hero', { id: r.id, version: 1, name: 'device', updatedAt: '2000-01-01T00:00:00.000Z' });
      expect(res).toMatchObject({ success: true, version: 3 });
      expect((await db.prisma.hero.findFirst({ where: { id: r.id } })).name).toBe('device');
    });

    it('merge: fields changed on one side merge; fields changed on both sides conflict with a merged suggestion', async () => {
      const checklist = await pushOne('Checklist', { clientId: randomUUID(), title: 'parent' });
      const base = { label: 'base', done: false, position: 0, weight: 1 };
      const r = await serverAhead('ChecklistItem', { ...base, checklistId: checklist.id }, { position: 5 });

      // The device changed `done` only: merged with the server's `position`.
      const merged = await pushOne('ChecklistItem', { id: r.id, version: 1, ...base, done: true, _base: { done: false } });
      expect(merged).toMatchObject({ success: true, version: 3 });
      expect(await db.prisma.checklistItem.findFirst({ where: { id: r.id } })).toMatchObject({ done: true, position: 5, label: 'base' });

      // Both changed `position` (differently), the device also changed `label`.
      const clash = await pushOne('ChecklistItem', {
        id: r.id,
        version: 2,
        ...base,
        position: 9,
        label: 'device',
        _base: { position: 0, label: 'base' },
      });
      expect(clash).toMatchObject({ success: false, errorCode: 'CONFLICT', version: 3 });
      expect(clash.errorMessage).toContain('position');
      expect(clash.conflict!.resolutionSuggested).toMatchObject({ position: 5, label: 'device', done: true });
      expect(clash.conflict!.serverData).toMatchObject({ position: 5, label: 'base' });
      // Nothing written on conflict.
      expect((await db.prisma.checklistItem.findFirst({ where: { id: r.id } })).version).toBe(3);

      // Without _base nothing can be attributed: differing fields conflict.
      const blind = await pushOne('ChecklistItem', { id: r.id, version: 1, label: 'other' });
      expect(blind.errorCode).toBe('CONFLICT');
    });

    /**
     * The real client, except that in the first `times` transactions the first read of
     * `delegate` returns the row one version older than it is: as if a concurrent
     * writer committed between our read and our `updateMany where { id, version }`,
     * which then really matches 0 rows.
     */
    function staleReads(delegate: string, times: number) {
      let left = times;
      const bind = (obj: object, key: string | symbol) => {
        const value = Reflect.get(obj, key, obj);
        return typeof value === 'function' ? value.bind(obj) : value;
      };
      const prisma = new Proxy(db.prisma, {
        get(target, key) {
          if (key !== '$transaction') return bind(target, key);
          return (fn: (tx: unknown) => Promise<unknown>, options: unknown) =>
            target.$transaction((tx: Record<string, any>) => {
              let first = true;
              const real = tx[delegate];
              const wrapped = new Proxy(real, {
                get(t, k) {
                  if (k !== 'findFirst') return bind(t, k);
                  return async (args: unknown) => {
                    const row = await t.findFirst(args);
                    if (!first || left <= 0 || !row) return row;
                    first = false;
                    left--;
                    return { ...row, version: row.version - 1 };
                  };
                },
              });
              return fn(new Proxy(tx, { get: (t, k) => (k === delegate ? wrapped : bind(t, k)) }));
            }, options);
        },
      });
      return new TrackhubCore({ prisma, verifyToken: devTokenVerifier, logger: silent }, descriptors);
    }

    it('optimistic concurrency: a write that loses the race is decided again against the fresh copy', async () => {
      // timestamp: after the race the server copy is newer than the device edit -> CONFLICT.
      const c = await pushOne('Checklist', { clientId: randomUUID(), title: 'base' });
      await db.prisma.checklist.update({ where: { id: c.id }, data: { version: 2, title: 'concurrent', updatedAt: new Date() } });
      const [lost] = await staleReads('checklist', 1).sync.push(A, 'Checklist', [
        { id: c.id, version: 1, title: 'device', updatedAt: new Date(Date.now() - 60_000).toISOString() },
      ]);
      expect(lost).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2, serverData: { title: 'concurrent' } } });
      expect((await db.prisma.checklist.findFirst({ where: { id: c.id } })).title).toBe('concurrent');

      // clientWins: the retry applies the item on top of the concurrent write.
      const h = await pushOne('Hero', { clientId: randomUUID(), name: 'base' });
      await db.prisma.hero.update({ where: { id: h.id }, data: { version: 2, name: 'concurrent' } });
      const [won] = await staleReads('hero', 1).sync.push(A, 'Hero', [{ id: h.id, version: 1, name: 'device' }]);
      expect(won).toMatchObject({ success: true, version: 3 });
      expect((await db.prisma.hero.findFirst({ where: { id: h.id } })).name).toBe('device');

      // A record that keeps changing: CONFLICT after a few rounds, never a silent overwrite.
      const [busy] = await staleReads('hero', 10).sync.push(A, 'Hero', [{ id: h.id, version: 3, name: 'again' }]);
      expect(busy).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 3 } });
      expect((await db.prisma.hero.findFirst({ where: { id: h.id } })).name).toBe('device');
    });

    it('manual: a stale base is always a CONFLICT', async () => {
      const manual = new TrackhubCore(
        { prisma: db.prisma, verifyToken: devTokenVerifier, logger: silent },
        descriptors.map((d) => (d.name === 'Hero' ? { ...d, conflict: 'manual' as const } : d)),
      );
      const r = await serverAhead('Hero', { name: 'base' }, { name: 'server' });
      const [res] = await manual.sync.push(A, 'Hero', [{ id: r.id, version: 1, name: 'device', updatedAt: new Date(Date.now() + 60_000).toISOString() }]);
      expect(res).toMatchObject({ success: false, errorCode: 'CONFLICT', conflict: { serverVersion: 2 } });
      const [fresh] = await manual.sync.push(A, 'Hero', [{ id: r.id, version: 2, name: 'device' }]);
      expect(fresh).toMatchObject({ success: true, version: 3 });
    });
  });

  describe('auth', () => {
    it('requires a verified principal (UNAUTHENTICATED otherwise)', async () => {
      expect(await codeOf(core.authenticate({}))).toBe('UNAUTHENTICATED');
      expect(await codeOf(core.authenticate({ req: { headers: {} } }))).toBe('UNAUTHENTICATED');
      expect(await codeOf(core.authenticate({ req: { headers: { authorization: 'Bearer nope' } } }))).toBe('UNAUTHENTICATED');
      expect(await codeOf(core.authenticate({ req: { headers: { authorization: 'dev:a:b' } } }))).toBe('UNAUTHENTICATED');
      expect(await codeOf(core.authenticate({ req: { headers: { authorization: 'Bearer dev:a:b:c' } } }))).toBe('UNAUTHENTICATED');
      await expect(core.authenticate(contextFor('t1', 'u1'))).resolves.toEqual({ tenantId: 't1', userId: 'u1' });
      const throwing = new TrackhubCore({ prisma: db.prisma, verifyToken: () => { throw new Error('boom'); } }, descriptors);
      expect(await codeOf(throwing.authenticate(contextFor('t1')))).toBe('UNAUTHENTICATED');
      const asyncOk = new TrackhubCore({ prisma: db.prisma, verifyToken: async () => ({ tenantId: 'x', userId: 'y' }) }, descriptors);
      await expect(asyncOk.authenticate(contextFor('ignored'))).resolves.toEqual({ tenantId: 'x', userId: 'y' });
    });
  });

  describe('online CRUD service', () => {
    interface SpaceObj {
      id: string;
      clientId: string | null;
      version: number;
      updatedAt: Date;
      deletedAt: Date | null;
      name: string;
      ownerId: string;
      [k: string]: unknown;
    }
    let spaces: CrudService<SpaceObj>;
    beforeAll(() => {
      spaces = new CrudService<SpaceObj>(core, descriptors.find((d) => d.name === 'Space')!);
    });
    const ctxA = contextFor(A.tenantId);
    const ctxB = contextFor(B.tenantId);

    it('create returns the server id at once and is idempotent on clientId', async () => {
      const clientId = randomUUID();
      const s = await spaces.create(ctxA, { clientId, name: 'online', ownerId: 'alice' });
      expect(s).toMatchObject({ clientId, version: 1, name: 'online', kind: 'TEAM', deletedAt: null });
      expect(s.updatedAt).toBeInstanceOf(Date);
      expect('internalNotes' in s).toBe(false);
      expect('tenantId' in s).toBe(false);
      const again = await spaces.create(ctxA, { clientId, name: 'online', ownerId: 'alice' });
      expect(again.id).toBe(s.id);
      const noClientId = await spaces.create(ctxA, { name: 'no cid', ownerId: 'alice' });
      expect(noClientId.clientId).toBeNull();
    });

    it('get / list are tenant-scoped and skip deleted records', async () => {
      const s = await spaces.create(ctxA, { name: 'listed', ownerId: 'alice' });
      expect((await spaces.get(ctxA, s.id))?.name).toBe('listed');
      expect(await spaces.get(ctxB, s.id)).toBeNull();
      expect(await spaces.get(ctxA, randomUUID())).toBeNull();

      const all: SpaceObj[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: SpaceObj[]; nextCursor: string | null } = await spaces.list(ctxA, { limit: 7, cursor });
        expect(page.items.length).toBeLessThanOrEqual(7);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      const liveCount = await db.prisma.space.count({ where: { tenantId: A.tenantId, deletedAt: null } });
      expect(all).toHaveLength(liveCount);
      expect(new Set(all.map((x) => x.id)).size).toBe(liveCount);

      await spaces.delete(ctxA, s.id, 1);
      expect(await spaces.get(ctxA, s.id)).toBeNull();
      expect(await codeOf(spaces.list(ctxA, { limit: 0 }))).toBe('INVALID_LIMIT');
    });

    it('update / delete check the expected version (CONFLICT carries the current record)', async () => {
      const s = await spaces.create(ctxA, { name: 'v1', ownerId: 'alice' });
      const u = await spaces.update(ctxA, s.id, 1, { name: 'v2', ownerId: 'ignored' });
      expect(u).toMatchObject({ version: 2, name: 'v2', ownerId: 'alice' });
      const err = await spaces.update(ctxA, s.id, 1, { name: 'stale' }).catch((e: TrackhubError) => e);
      expect(err).toBeInstanceOf(TrackhubError);
      expect((err as TrackhubError).extensions).toMatchObject({ code: 'CONFLICT', serverVersion: 2, current: { name: 'v2', version: 2 } });
      expect(await codeOf(spaces.delete(ctxA, s.id, 1))).toBe('CONFLICT');
      const d = await spaces.delete(ctxA, s.id, 2);
      expect(d.version).toBe(3);
      expect(d.deletedAt).toBeInstanceOf(Date);
      expect(await codeOf(spaces.update(ctxA, s.id, 3, { name: 'x' }))).toBe('NOT_FOUND');
      expect(await codeOf(spaces.update(ctxB, u.id, 2, { name: 'x' }))).toBe('NOT_FOUND');
      expect(await codeOf(spaces.update(ctxA, u.id, 2, { name: null }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(spaces.get({}, s.id))).toBe('UNAUTHENTICATED');
    });
  });
});
