/**
 * A batched push writes its creates with bulk INSERTs (src/runtime/server/bulk-insert.ts)
 * where they store what Prisma would. On real Prisma over SQLite and PostgreSQL, with a
 * schema of the kind users bring (a mapped table name with a space in it, mapped columns,
 * every field kind, literal, `uuid()`, `now()` and Json defaults, an Int autoincrement id
 * and an Int tenant, a `cuid()` id), these tests prove that:
 * - a batch of creates stores what pushing them one by one through Prisma stores, and
 *   answers the same, in one INSERT statement;
 * - defaults the runtime does not compute the way Prisma does (`cuid()`) keep Prisma's own
 *   `createManyAndReturn`;
 * - a create the database refuses (a unique key) gets the one-by-one answer, and the
 *   rest of the batch is written.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { descriptorOf } from '../../src/emitters/server/index.js';
import { projectFromText } from '../../src/model/build.js';
import { devTokenVerifier, TrackhubCore, type Principal, type SyncResult } from '../../src/runtime/server/index.js';
import { openLoggedPrisma, type LoggedPrisma } from '../support/logged-prisma.js';
import { postgresAvailability } from '../support/postgres.js';
import { readingsSchema } from '../support/readings-schema.js';

const SCHEMA = readingsSchema(`
/// A cuid() id: Prisma's client computes it, the runtime does not.
/// @sync
model Memo {
  id        String    @id @default(cuid())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime  @updatedAt
  deletedAt DateTime?
  tenantId  String
  text      String

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt])
}
`);

const project = projectFromText(SCHEMA);
const descriptor = (name: string) => descriptorOf(project.entities.find((e) => e.name === name)!, project);

const postgres = await postgresAvailability();
const variants = [
  { provider: 'sqlite' as const, skip: false },
  { provider: 'postgresql' as const, skip: postgres.url === null },
];

describe.each(variants)('bulk inserts in a batched push on $provider', ({ provider, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let prisma: any;
  let db: LoggedPrisma;
  let statements: string[];
  let core: TrackhubCore;

  beforeAll(async () => {
    db = await openLoggedPrisma(SCHEMA, provider, 'server-bulk-insert');
    ({ prisma, statements } = db);
    core = new TrackhubCore({ prisma, verifyToken: devTokenVerifier, logger: { error: () => {} } }, [descriptor('Reading'), descriptor('Counter'), descriptor('Memo')]);
  });
  afterAll(async () => {
    await db?.close();
  });

  // Prisma quotes names with backticks on SQLite, the bulk statements with double quotes.
  const inserts = (table: string) => statements.filter((s) => /^\s*INSERT INTO/i.test(s) && (s.includes(`"${table}"`) || s.includes(`\`${table}\``)));

  it('the descriptor lists the defaults Prisma computes, and leaves cuid() entities to Prisma', () => {
    expect(descriptor('Reading').storage?.insert).toEqual({
      columns: { clientId: 'client_uuid', createdAt: 'created_at', note: 'note' },
      defaults: {
        id: 'uuid',
        version: { value: 1 },
        createdAt: 'now',
        updatedAt: 'now',
        value: { value: 0.5 },
        count: { value: 7 },
        ok: { value: true },
        level: { value: 'HIGH' },
      },
    });
    // A Json default is stored parsed (Prisma's SQLite migrations cannot create one, so it is not in the schema above).
    const json = projectFromText(SCHEMA.replace('meta      Json?', 'meta      Json      @default("{\\"source\\": [1, \\"x\\"]}")'));
    expect(descriptorOf(json.entities.find((e) => e.name === 'Reading')!, json).storage?.insert?.defaults.meta).toEqual({ value: { source: [1, 'x'] } });
    // autoincrement() is the database's: not listed, left out of the statement.
    expect(descriptor('Counter').storage?.insert?.defaults).toEqual({ version: { value: 1 }, updatedAt: 'now', total: { value: 0 } });
    expect(descriptor('Memo').storage?.insert).toBeUndefined();
  });

  /** Creates of every kind of value, with fields left out for their defaults and explicit nulls. */
  function creates(n: number, prefix: string): Array<Record<string, unknown>> {
    const metas: unknown[] = [{ nested: { a: [1, 2, { b: 'x' }] } }, 'a JSON string', 42, [true, null]];
    return Array.from({ length: n }, (_, i) => {
      const item: Record<string, unknown> = { clientId: randomUUID(), label: `${prefix} ${i} "quoted" 'single' ✓`, code: i % 5 === 0 ? null : `${prefix}-${i}` };
      if (i % 3 !== 0) {
        item.value = i / 3;
        item.count = -i;
        item.ok = i % 2 === 0;
        item.level = i % 2 ? 'HIGH' : 'LOW';
        item.meta = metas[i % metas.length];
        item.takenAt = new Date(Date.UTC(2026, 0, 1, 12, 0, i, 250)).toISOString();
      }
      if (i % 4 === 1) item.extra = null;
      if (i % 4 === 2) item.extra = { i };
      return item;
    });
  }

  /** What is stored per item, without the per-tenant keys and stamps (and, on SQLite, each column's storage class). */
  async function stored(who: Principal, results: SyncResult[]) {
    const rows: Array<Record<string, unknown>> = await prisma.reading.findMany({ where: { tenantId: who.tenantId } });
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    const classes =
      provider === 'sqlite'
        ? await prisma.$queryRawUnsafe(
            `SELECT typeof("created_at") AS c, typeof("updated_at") AS u, typeof("is_ok") AS ok, typeof("taken_at") AS t, typeof("meta") AS m, typeof("extra") AS e, typeof("value") AS v
             FROM "sensor readings" WHERE "tenant_key" = ? ORDER BY "count", "reading label"`,
            who.tenantId,
          )
        : [];
    return {
      rows: results.map((r) => {
        const row = byId.get(r.id!)!;
        return { ...row, id: undefined, clientId: undefined, tenantId: undefined, createdAt: undefined, updatedAt: undefined, label: String(row.label).replace(/^\w+ /, ''), code: typeof row.code === 'string' ? (row.code as string).replace(/^\w+-/, '') : row.code };
      }),
      classes,
    };
  }

  const shape = (results: SyncResult[]) => results.map((r) => ({ ...r, id: r.id === null ? null : 'id', clientId: r.clientId === null ? null : 'clientId', updatedAt: r.updatedAt === null ? null : 'stamped' }));

  it('a batch of creates stores and answers what creating them one by one stores, in one INSERT', async () => {
    const N = 40;
    const single: Principal = { tenantId: `single-${randomUUID()}`, userId: 'u' };
    const batched: Principal = { tenantId: `batched-${randomUUID()}`, userId: 'u' };
    const one: SyncResult[] = [];
    for (const item of creates(N, 'single')) one.push(...(await core.sync.push(single, 'Reading', [item])));
    const items = creates(N, 'batched');
    const before = Date.now();
    statements.length = 0;
    const many = await core.sync.push(batched, 'Reading', items);
    const written = inserts('sensor readings');

    expect(many.filter((r) => !r.success)).toEqual([]);
    expect(shape(many)).toEqual(shape(one));
    expect(many.map((r) => r.clientId)).toEqual(items.map((i) => i.clientId));
    expect(await stored(batched, many)).toEqual(await stored(single, one));
    // One statement for the whole run, not Prisma's INSERT ... RETURNING.
    expect(written).toHaveLength(1);
    expect(written[0]).not.toMatch(/RETURNING/i);

    // Spot checks, so that "equal" is not "equally wrong".
    const rows = (await prisma.reading.findMany({ where: { tenantId: batched.tenantId } })) as Array<Record<string, unknown>>;
    const byClientId = new Map(rows.map((r) => [r.clientId, r]));
    const row = (i: number) => byClientId.get(items[i]!.clientId)!;
    // Left out: the schema's defaults, Prisma's way.
    expect(row(0)).toMatchObject({ value: 0.5, count: 7, ok: true, level: 'HIGH', meta: null, extra: null, takenAt: null, code: null, version: 1 });
    expect(row(1)).toMatchObject({ value: 1 / 3, count: -1, ok: false, level: 'HIGH', meta: 'a JSON string', extra: null, code: 'batched-1' });
    expect(row(2)).toMatchObject({ meta: 42, extra: { i: 2 }, ok: true, level: 'LOW' });
    expect((row(2).takenAt as Date).toISOString()).toBe('2026-01-01T12:00:02.250Z');
    for (const r of rows) {
      expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((r.createdAt as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect((r.createdAt as Date).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
    // The answer's id and stamp are the stored ones.
    for (const r of many) expect((byClientId.get(r.clientId)!.updatedAt as Date).getTime()).toBe(new Date(r.updatedAt as unknown as string).getTime());
    expect(new Set(many.map((r) => r.id)).size).toBe(N);

    // Devices pull the same values from both.
    const pulled = async (who: Principal) =>
      (await core.sync.pull(who, 'Reading', { limit: 100 })).items
        .map((r): Record<string, unknown> => ({ ...r, id: undefined, clientId: undefined, updatedAt: undefined, code: typeof r.code === 'string' ? r.code.replace(/^\w+-/, '') : r.code }))
        .sort((a, b) => String(a.label).localeCompare(String(b.label)));
    const strip = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ ...r, label: String(r.label).replace(/^\w+ /, '') }));
    expect(strip(await pulled(batched))).toEqual(strip(await pulled(single)));
  });

  it('Int autoincrement ids and an Int tenant: the database numbers a batch of creates, as one by one', async () => {
    const run = async (org: number, alone: boolean) => {
      const who: Principal = { tenantId: String(org), userId: 'u' };
      const items = Array.from({ length: 6 }, (_, i) => ({ clientId: randomUUID(), ...(i % 2 ? { total: i * 10 } : {}) }));
      statements.length = 0;
      const results: SyncResult[] = [];
      if (alone) for (const item of items) results.push(...(await core.sync.push(who, 'Counter', [item])));
      else results.push(...(await core.sync.push(who, 'Counter', items)));
      const rows = await prisma.counter.findMany({ where: { orgId: org }, orderBy: { id: 'asc' } });
      return {
        inserts: inserts('Counter').length,
        returning: inserts('Counter').some((s) => /RETURNING/i.test(s)),
        results: results.map((r) => [r.success, r.version, typeof r.id, /^\d+$/.test(r.id ?? '')]),
        rows: rows.map((r: Record<string, unknown>) => [r.clientId, r.total, r.version, r.deletedAt, r.updatedAt instanceof Date]) as unknown[][],
        ids: rows.map((r: { id: number }) => r.id),
        answered: results.map((r) => Number(r.id)),
      };
    };
    const base = 1000 + Math.floor(Math.random() * 1_000_000);
    const one = await run(base, true);
    const many = await run(base + 1, false);
    expect(many.results).toEqual(one.results);
    expect(many.rows.map((r) => r.slice(1))).toEqual(one.rows.map((r) => r.slice(1)));
    expect(many.rows.map((r) => r.slice(1))).toEqual([[0, 1, null, true], [10, 1, null, true], [0, 1, null, true], [30, 1, null, true], [0, 1, null, true], [50, 1, null, true]]);
    expect(many.answered).toEqual(many.ids);
    expect(many.inserts).toBe(1);
    expect(many.returning).toBe(false);
  });

  it('a cuid() id keeps Prisma\'s createManyAndReturn, and gets Prisma\'s ids', async () => {
    const who: Principal = { tenantId: `memo-${randomUUID()}`, userId: 'u' };
    statements.length = 0;
    const results = await core.sync.push(who, 'Memo', [1, 2, 3].map((i) => ({ clientId: randomUUID(), text: `memo ${i}` })));
    expect(results.map((r) => r.success)).toEqual([true, true, true]);
    const rows = await prisma.memo.findMany({ where: { tenantId: who.tenantId } });
    expect(rows.map((r: { id: string }) => r.id).sort()).toEqual(results.map((r) => r.id).sort());
    for (const r of rows) expect(r.id).toMatch(/^c[a-z0-9]{20,}$/);
    const written = inserts('Memo');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/RETURNING/i);
  });

  it('a create the database refuses (a unique key) gets the answer of the one-by-one path; the rest is written', async () => {
    const run = async (alone: boolean) => {
      const who: Principal = { tenantId: `unique-${alone}-${randomUUID()}`, userId: 'u' };
      await core.sync.push(who, 'Reading', [{ clientId: randomUUID(), label: 'first', code: 'taken' }]);
      const items = [
        { clientId: randomUUID(), label: 'a', code: 'free-a' },
        { clientId: randomUUID(), label: 'b', code: 'taken' },
        { clientId: randomUUID(), label: 'c', code: 'free-c' },
      ];
      const results: SyncResult[] = [];
      if (alone) for (const item of items) results.push(...(await core.sync.push(who, 'Reading', [item])));
      else results.push(...(await core.sync.push(who, 'Reading', items)));
      const labels = (await prisma.reading.findMany({ where: { tenantId: who.tenantId }, orderBy: { label: 'asc' } })).map((r: { label: string }) => r.label);
      return { results: results.map((r) => [r.success, r.errorCode, r.clientId === null ? null : items.findIndex((i) => i.clientId === r.clientId)]), labels };
    };
    const one = await run(true);
    const many = await run(false);
    expect(one.results).toEqual([
      [true, null, 0],
      [false, 'UNIQUE_VIOLATION', 1],
      [true, null, 2],
    ]);
    expect(many).toEqual(one);
    expect(many.labels).toEqual(['a', 'c', 'first']);
  });
});
