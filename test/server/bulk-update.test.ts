/**
 * A batched push writes its updates and deletes in bulk statements
 * (src/runtime/server/bulk-update.ts). These tests use a schema of the kind users
 * bring: a mapped table name with a space in it, mapped columns, and every field kind
 * (String, Float, Int, Boolean, DateTime, Enum, Json). They prove, on real Prisma over
 * SQLite and PostgreSQL, that a batch writes the same stored values as pushing the
 * same items one by one, in one UPDATE statement per set of fields; and that a row
 * another writer changed after the batch read it gives the answer of the one-by-one
 * path.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { descriptorOf } from '../../src/emitters/server/index.js';
import { projectFromText } from '../../src/model/build.js';
import { bulkDialectOf } from '../../src/runtime/server/bulk-update.js';
import { devTokenVerifier, TrackhubCore, type EntityDescriptor, type Principal, type SyncResult } from '../../src/runtime/server/index.js';
import { openLoggedPrisma, type LoggedPrisma } from '../support/logged-prisma.js';
import { postgresAvailability } from '../support/postgres.js';
import { readingsSchema } from '../support/readings-schema.js';

const SCHEMA = readingsSchema();

const project = projectFromText(SCHEMA);
const entity = (name: string) => project.entities.find((e) => e.name === name)!;
const descriptor = (hooks?: EntityDescriptor['hooks']): EntityDescriptor => ({ ...descriptorOf(entity('Reading'), project), ...(hooks ? { hooks } : {}) });

const postgres = await postgresAvailability();
const variants = [
  { provider: 'sqlite' as const, skip: false },
  { provider: 'postgresql' as const, skip: postgres.url === null },
];

describe.each(variants)('bulk updates in a batched push on $provider', ({ provider, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let prisma: any;
  let db: LoggedPrisma;
  let statements: string[];
  /** A hook run before each write of the core's pushes (the race test sets it). */
  let beforeWrite: ((data: Readonly<Record<string, unknown>>) => Promise<void>) | null = null;
  let core: TrackhubCore;

  beforeAll(async () => {
    db = await openLoggedPrisma(SCHEMA, provider, 'server-bulk-update');
    ({ prisma, statements } = db);
    const hooks = { validate: async (data: Readonly<Record<string, unknown>>) => void (await beforeWrite?.(data)) };
    core = new TrackhubCore({ prisma, verifyToken: devTokenVerifier, logger: { error: () => {} } }, [descriptor(hooks), descriptorOf(entity('Counter'), project)]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('the client is recognised and the descriptor names the mapped table and columns', () => {
    expect(bulkDialectOf(prisma)).toEqual(provider === 'sqlite' ? { kind: 'sqlite' } : { kind: 'postgresql', schema: 'public' });
    // (storage.insert, for the creates: bulk-insert.test.ts)
    expect({ ...descriptor().storage, insert: undefined }).toEqual({
      table: 'sensor readings',
      insert: undefined,
      columns: {
        id: 'reading_id',
        version: 'row_version',
        updatedAt: 'updated_at',
        deletedAt: 'deleted_at',
        tenantId: 'tenant_key',
        label: 'reading label',
        code: 'code',
        value: 'value',
        count: 'count',
        ok: 'is_ok',
        takenAt: 'taken_at',
        level: 'level',
        meta: 'meta',
        extra: 'extra',
      },
    });
  });

  const N = 30;
  const later = () => new Date(Date.now() + 60_000).toISOString();

  /** N records of `who`, pushed one by one; their ids in order. */
  async function seed(who: Principal): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const [r] = await core.sync.push(who, 'Reading', [{ clientId: randomUUID(), label: `r${i}`, meta: { i } }]);
      ids.push(r!.id!);
    }
    return ids;
  }

  /** Updates of every kind of value (and nulls), then deletes: the same items for any tenant. */
  function changes(ids: string[]): unknown[] {
    const metas: unknown[] = [{ nested: { a: [1, 2, { b: 'x' }] } }, 'a JSON string', 42, [true, null], null];
    const items: unknown[] = ids.slice(0, 20).map((id, i) => ({
      id,
      version: 1,
      updatedAt: later(),
      label: `edited ${i} "quoted" 'single' ✓`,
      value: i / 3,
      count: -i,
      ok: i % 2 === 0,
      takenAt: i % 4 === 0 ? null : new Date(Date.UTC(2026, 0, 1, 12, 0, i, 250)).toISOString(),
      level: i % 2 ? 'HIGH' : 'LOW',
      meta: metas[i % metas.length],
    }));
    items.push(...ids.slice(20, 25).map((id) => ({ id, version: 1, updatedAt: later(), label: 'label only' })));
    items.push(...ids.slice(25).map((id) => ({ id, version: 1, deletedAt: later() })));
    return items;
  }

  /** What is stored, field by field (and, on SQLite, each column's storage class). */
  async function stored(who: Principal, ids: string[]) {
    const rows = await prisma.reading.findMany({ where: { tenantId: who.tenantId } });
    const byId = new Map(rows.map((r: { id: string }) => [r.id, r]));
    const classes =
      provider === 'sqlite'
        ? await prisma.$queryRawUnsafe(
            `SELECT typeof("updated_at") AS u, typeof("deleted_at") AS d, typeof("is_ok") AS ok, typeof("taken_at") AS t, typeof("meta") AS m, typeof("value") AS v
             FROM "sensor readings" WHERE "tenant_key" = ? ORDER BY "reading label", "count"`,
            who.tenantId,
          )
        : [];
    return {
      rows: ids.map((id) => {
        const r = byId.get(id) as Record<string, unknown>;
        return { ...r, id: undefined, clientId: undefined, tenantId: undefined, createdAt: undefined, updatedAt: undefined, deletedAt: r.deletedAt !== null };
      }),
      classes,
    };
  }

  const shape = (results: SyncResult[], ids: string[]) =>
    results.map((r) => ({ ...r, id: r.id === null ? null : ids.indexOf(r.id), clientId: null, updatedAt: r.updatedAt === null ? null : 'stamped' }));

  it('a batch of updates and deletes stores what pushing them one by one stores, in one UPDATE per set of fields', async () => {
    const single: Principal = { tenantId: `single-${randomUUID()}`, userId: 'u' };
    const batched: Principal = { tenantId: `batched-${randomUUID()}`, userId: 'u' };
    const singleIds = await seed(single);
    const batchedIds = await seed(batched);

    const one: SyncResult[] = [];
    for (const item of changes(singleIds)) one.push(...(await core.sync.push(single, 'Reading', [item])));
    statements.length = 0;
    const many = await core.sync.push(batched, 'Reading', changes(batchedIds));
    const updates = statements.filter((s) => /\bUPDATE\b/i.test(s) && s.includes('"sensor readings"'));

    expect(shape(many, batchedIds)).toEqual(shape(one, singleIds));
    expect(many.filter((r) => !r.success)).toEqual([]);
    expect(many.map((r) => r.version)).toEqual(Array(N).fill(2));
    expect(await stored(batched, batchedIds)).toEqual(await stored(single, singleIds));
    // Three sets of fields (every field, the label only, the deletion): three statements.
    expect(updates).toHaveLength(3);
    // Spot checks, so that "equal" is not "equally wrong".
    const rows = (await stored(batched, batchedIds)).rows as Array<Record<string, unknown>>;
    expect(rows[1]).toMatchObject({ label: `edited 1 "quoted" 'single' ✓`, value: 1 / 3, count: -1, ok: false, level: 'HIGH', meta: 'a JSON string', version: 2 });
    expect(rows[0]).toMatchObject({ takenAt: null, meta: { nested: { a: [1, 2, { b: 'x' }] } }, ok: true });
    expect(rows[4]!.meta).toBeNull();
    expect((rows[2]!.takenAt as Date).toISOString()).toBe('2026-01-01T12:00:02.250Z');
    expect(rows[27]).toMatchObject({ deletedAt: true, label: 'r27' });

    // Devices pull the same values from both.
    const pulled = async (who: Principal, ids: string[]) =>
      (await core.sync.pull(who, 'Reading', { limit: 100 })).items
        .map((r) => ({ ...r, id: ids.indexOf(r.id as string), clientId: undefined, updatedAt: undefined, deletedAt: r.deletedAt !== null }))
        .sort((a, b) => a.id - b.id);
    expect(await pulled(batched, batchedIds)).toEqual(await pulled(single, singleIds));
  });

  it('an update of another tenant\'s id is NOT_FOUND in a batch too, and the batch still writes the rest', async () => {
    const mine: Principal = { tenantId: `mine-${randomUUID()}`, userId: 'u' };
    const theirs: Principal = { tenantId: `theirs-${randomUUID()}`, userId: 'u' };
    const [foreign] = await core.sync.push(theirs, 'Reading', [{ clientId: randomUUID(), label: 'theirs' }]);
    const [own] = await core.sync.push(mine, 'Reading', [{ clientId: randomUUID(), label: 'mine' }]);
    const results = await core.sync.push(mine, 'Reading', [
      { id: foreign!.id, version: 1, updatedAt: later(), label: 'taken over' },
      { id: own!.id, version: 1, updatedAt: later(), label: 'mine, edited' },
    ]);
    expect(results.map((r) => r.errorCode)).toEqual(['NOT_FOUND', null]);
    expect((await prisma.reading.findUnique({ where: { id: foreign!.id } })).label).toBe('theirs');
    expect((await prisma.reading.findUnique({ where: { id: own!.id } })).label).toBe('mine, edited');
  });

  it('Int ids and an Int tenant: a batch stores what one by one stores, in one UPDATE per set of fields', async () => {
    const run = async (org: number, alone: boolean) => {
      const who: Principal = { tenantId: String(org), userId: 'u' };
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await core.sync.push(who, 'Counter', [{ clientId: randomUUID(), total: i }]))[0]!.id!);
      const items = [
        ...ids.slice(0, 4).map((id, i) => ({ id, version: 1, total: 100 + i })),
        ...ids.slice(4).map((id) => ({ id, version: 1, deletedAt: later() })),
      ];
      statements.length = 0;
      const results: SyncResult[] = [];
      if (alone) for (const item of items) results.push(...(await core.sync.push(who, 'Counter', [item])));
      else results.push(...(await core.sync.push(who, 'Counter', items)));
      const bulk = statements.filter((s) => /\bUPDATE\b/i.test(s) && s.includes('"Counter"')).length;
      const rows = await prisma.counter.findMany({ where: { orgId: org }, orderBy: { id: 'asc' } });
      return {
        bulk,
        results: results.map((r) => [r.success, r.version, typeof r.id]),
        rows: rows.map((r: Record<string, unknown>) => [r.total, r.version, r.deletedAt !== null]),
      };
    };
    const base = 1000 + Math.floor(Math.random() * 1_000_000);
    const one = await run(base, true);
    const many = await run(base + 1, false);
    expect(many.results).toEqual(one.results);
    expect(many.rows).toEqual(one.rows);
    expect(many.rows).toEqual([[100, 2, false], [101, 2, false], [102, 2, false], [103, 2, false], [4, 2, true], [5, 2, true]]);
    expect(many.bulk).toBe(2);
  });

  it.skipIf(provider === 'sqlite')(
    'a row another writer changes after the batch read it: the chunk is redone one by one and the item reports the conflict (PostgreSQL only: on SQLite no other writer can commit while the batch is open)',
    async () => {
      const who: Principal = { tenantId: `race-${randomUUID()}`, userId: 'u' };
      const ids = await seed(who);
      const [a, b, c] = ids;
      // While the batch decides its second item, another writer (outside the batch's
      // transaction) edits the first item's record: its deferred update's guard no longer holds.
      let raced = false;
      beforeWrite = async (data) => {
        if (raced || data.label !== 'b edited') return;
        raced = true;
        await prisma.reading.update({ where: { id: a }, data: { label: 'edited elsewhere', version: 2, updatedAt: new Date(Date.now() + 120_000) } });
      };
      try {
        const results = await core.sync.push(who, 'Reading', [
          { id: a, version: 1, updatedAt: later(), label: 'a edited' },
          { id: b, version: 1, updatedAt: later(), label: 'b edited' },
          { id: c, version: 1, updatedAt: later(), label: 'c edited' },
        ]);
        expect(raced).toBe(true);
        // Timestamp strategy: the other writer's later edit wins over the item.
        expect(results[0]).toMatchObject({ success: false, errorCode: 'CONFLICT', version: 2 });
        expect(results.slice(1).map((r) => [r.success, r.version])).toEqual([
          [true, 2],
          [true, 2],
        ]);
        const labels = await prisma.reading.findMany({ where: { id: { in: [a, b, c] } }, orderBy: { label: 'asc' } });
        expect(labels.map((r: { label: string }) => r.label).sort()).toEqual(['b edited', 'c edited', 'edited elsewhere']);
      } finally {
        beforeWrite = null;
      }
    },
  );
});

describe('which entities get bulk updates (the descriptor\'s storage)', () => {
  const variant = (fieldLine: string) => projectFromText(SCHEMA.replace('  meta      Json?\n', `  meta      Json?\n  ${fieldLine}\n`));
  const storage = (p: ReturnType<typeof projectFromText>) => descriptorOf(p.entities.find((e) => e.name === 'Reading')!, p).storage;

  it('a date-only or time-only column leaves the updates to Prisma', () => {
    expect(storage(variant('day DateTime? @db.Date'))).toBeUndefined();
    expect(storage(variant('at DateTime? @db.Time(3)'))).toBeUndefined();
    expect(storage(variant('at DateTime? @db.Timestamptz(3)'))?.columns.at).toBe('at');
  });

  it('an enum with mapped values leaves the updates to Prisma', () => {
    const mapped = projectFromText(SCHEMA.replace('  LOW\n', '  LOW @map("low")\n'));
    expect(storage(mapped)).toBeUndefined();
  });

  it('a field only the server sees is not a column the push writes', () => {
    expect(storage(variant('notes String? /// @sync.ignore'))?.columns).not.toHaveProperty('notes');
  });

  it('a multiSchema model names its schema', () => {
    const p = projectFromText(
      SCHEMA.replace('provider = "postgresql"', 'provider = "postgresql"\n  schemas  = ["sync"]')
        .replace(/@@map\(/g, '@@schema("sync")\n  @@map(')
        .replace('  @@index([orgId, updatedAt])', '  @@index([orgId, updatedAt])\n  @@schema("sync")')
        .replace('  HIGH\n}', '  HIGH\n\n  @@schema("sync")\n}'),
    );
    expect(storage(p)).toMatchObject({ table: 'sensor readings', schema: 'sync' });
  });
});
