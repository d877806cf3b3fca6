/**
 * syncPush applies a chunk of items in one transaction with batched look-ups
 * (src/runtime/server/batch.ts). These tests prove it gives exactly the results
 * of applying the same items one by one (each pushed alone, which takes the
 * one-transaction-per-item path), and that concurrent batches racing on the
 * same creates fall back correctly. Real Prisma on SQLite, and on PostgreSQL
 * when reachable (skipped visibly otherwise).
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devTokenVerifier, TrackhubCore, type Principal, type SyncResult } from '../../src/runtime/server/index.js';
import { fixtureDescriptors } from './support/fixture.js';
import { fixtureVariants, type TestDatabase } from './support/prisma.js';


describe.each(await fixtureVariants('server_batch_push'))('batched syncPush on $provider', ({ connect, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  let db: TestDatabase;
  let core: TrackhubCore;
  let transactions = 0;
  beforeAll(async () => {
    db = await connect();
    // Count interactive transactions (the batched path uses one per chunk).
    const original = db.prisma.$transaction.bind(db.prisma);
    db.prisma.$transaction = (...args: unknown[]) => {
      transactions++;
      return original(...args);
    };
    core = new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, logger: { error: () => {} } }, await fixtureDescriptors());
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Seeds two Spaces (one then edited to version 2) and one Space of another tenant; returns their ids. */
  async function seed(who: Principal): Promise<{ a: string; b: string; foreign: string }> {
    const one = async (p: Principal, item: Record<string, unknown>) => (await core.sync.push(p, 'Space', [item]))[0]!;
    const a = await one(who, { clientId: randomUUID(), name: 'A', ownerId: who.userId });
    const b = await one(who, { clientId: randomUUID(), name: 'B', ownerId: who.userId });
    await one(who, { id: b.id, version: 1, name: 'B2', updatedAt: new Date(Date.now() + 1000).toISOString() });
    const other: Principal = { tenantId: `${who.tenantId}-other`, userId: 'x' };
    const foreign = await one(other, { clientId: randomUUID(), name: 'F', ownerId: 'x' });
    return { a: a.id!, b: b.id!, foreign: foreign.id! };
  }

  /** Items naming the seeded records; clientIds c1..c3 are fresh per tenant. */
  function spaceItems(ids: { a: string; b: string; foreign: string }, c: string[]): unknown[] {
    const later = new Date(Date.now() + 60_000).toISOString();
    const earlier = new Date(Date.now() - 3_600_000).toISOString();
    return [
      { clientId: c[0], name: 'new 1', ownerId: 'u' }, // create
      { clientId: c[0], name: 'new 1 replayed', ownerId: 'u' }, // replay in the same batch: same record
      { clientId: c[0], version: 1, name: 'new 1 edited', updatedAt: later }, // update a record created in this batch
      { name: 'no clientId', ownerId: 'u' }, // VALIDATION_FAILED
      { id: ids.a, version: 1, name: 'A edited', updatedAt: later }, // update
      { id: ids.b, version: 1, name: 'B stale', updatedAt: earlier }, // stale: CONFLICT (timestamp, server newer)
      { id: ids.a, version: 2, deletedAt: later }, // delete what was just updated
      { id: ids.a, version: 3, deletedAt: later }, // delete a tombstone: no-op success
      { id: ids.foreign, version: 1, name: 'not mine' }, // another tenant's id: NOT_FOUND
      { clientId: c[1], name: 'forbidden', ownerId: 'u', internalNotes: 'x' }, // FORBIDDEN_FIELD
      { clientId: c[2], name: 'made and deleted offline', ownerId: 'u', deletedAt: later }, // never created: success, id null
      { clientId: c[1], name: 'new 2', ownerId: 'u', position: 7, description: null }, // create after a failed one
      'not an object', // VALIDATION_FAILED
      { clientId: c[1], version: 1, deletedAt: later }, // delete the record created two items ago
    ];
  }

  function shape(results: SyncResult[], names: Map<string, string>): unknown[] {
    const label = (id: string | null) => (id === null ? null : (names.get(id) ?? `id#${[...names.keys()].indexOf(id)}`));
    return results.map((r) => ({
      id: label(r.id),
      clientId: r.clientId === null ? null : (names.get(r.clientId) ?? 'clientId'),
      success: r.success,
      errorCode: r.errorCode,
      version: r.version,
      conflict: r.conflict ? { serverVersion: r.conflict.serverVersion, name: (r.conflict.serverData as { name?: unknown } | null)?.name } : null,
      hasUpdatedAt: r.updatedAt !== null,
    }));
  }

  it('a mixed batch gives the results and rows of pushing its items one by one', async () => {
    const batched: Principal = { tenantId: `batched-${randomUUID()}`, userId: 'u' };
    const single: Principal = { tenantId: `single-${randomUUID()}`, userId: 'u' };
    const run = async (who: Principal, alone: boolean) => {
      const ids = await seed(who);
      const c = [randomUUID(), randomUUID(), randomUUID()];
      const items = spaceItems(ids, c);
      let results: SyncResult[] = [];
      const before = transactions;
      if (alone) for (const item of items) results.push(...(await core.sync.push(who, 'Space', [item])));
      else results = await core.sync.push(who, 'Space', items);
      used.set(alone, transactions - before);
      const names = new Map<string, string>([
        [ids.a, 'A'],
        [ids.b, 'B'],
        [ids.foreign, 'F'],
        [c[0]!, 'c1'],
        [c[1]!, 'c2'],
        [c[2]!, 'c3'],
      ]);
      const rows = await db.prisma.space.findMany({ where: { tenantId: who.tenantId }, orderBy: { name: 'asc' } });
      for (const r of rows) if (!names.has(r.id)) names.set(r.id, `row:${r.clientId ? names.get(r.clientId) : '?'}`);
      return {
        results: shape(results, names),
        rows: rows.map((r: Record<string, unknown>) => ({
          id: names.get(r.id as string),
          name: r.name,
          version: r.version,
          deleted: r.deletedAt !== null,
          position: r.position,
          description: r.description,
        })),
      };
    };
    const used = new Map<boolean, number>();
    const one = await run(single, true);
    const many = await run(batched, false);
    expect(many).toEqual(one);
    // The batch really took the batched path: one transaction for the 14 items.
    expect(used.get(false)).toBe(1);
    expect(used.get(true)).toBeGreaterThan(5);
    // Spot checks, so that "equal" is not "equally wrong".
    const codes = (many.results as { errorCode: string | null }[]).map((r) => r.errorCode);
    expect(codes).toEqual([null, null, null, 'VALIDATION_FAILED', null, 'CONFLICT', null, null, 'NOT_FOUND', 'FORBIDDEN_FIELD', null, null, 'VALIDATION_FAILED', null]);
    expect(many.results[2]).toMatchObject({ id: 'row:c1', success: true, version: 2 });
    expect(many.results[10]).toMatchObject({ id: null, success: true });
  });

  it('a Group batch resolves parents by id and by clientId, and refuses another tenant\'s parent', async () => {
    const who: Principal = { tenantId: `groups-${randomUUID()}`, userId: 'u' };
    const ids = await seed(who);
    const parentClientId = randomUUID();
    const [parent] = await core.sync.push(who, 'Space', [{ clientId: parentClientId, name: 'P', ownerId: 'u' }]);
    const results = await core.sync.push(who, 'Group', [
      { clientId: randomUUID(), name: 'g1', spaceId: parentClientId },
      { clientId: randomUUID(), name: 'g2', spaceId: ids.b },
      { clientId: randomUUID(), name: 'g3', spaceId: ids.foreign },
      { clientId: randomUUID(), name: 'g4', spaceId: parentClientId },
    ]);
    expect(results.map((r) => r.errorCode)).toEqual([null, null, 'VALIDATION_FAILED', null]);
    const groups = await db.prisma.group.findMany({ where: { tenantId: who.tenantId }, orderBy: { name: 'asc' } });
    expect(groups.map((g: Record<string, unknown>) => [g.name, g.spaceId])).toEqual([
      ['g1', parent!.id],
      ['g2', ids.b],
      ['g4', parent!.id],
    ]);
  });

  it('concurrent batches creating the same records end with one row each and the same ids in every answer', async () => {
    const who: Principal = { tenantId: `race-${randomUUID()}`, userId: 'u' };
    const items = Array.from({ length: 120 }, (_, i) => ({ clientId: randomUUID(), name: `r${i}`, ownerId: 'u' }));
    const answers = await Promise.all([0, 1, 2].map(() => core.sync.push(who, 'Space', items)));
    for (const answer of answers) {
      expect(answer.every((r) => r.success && r.version === 1)).toBe(true);
      expect(answer.map((r) => r.id)).toEqual(answers[0]!.map((r) => r.id));
    }
    expect(await db.prisma.space.count({ where: { tenantId: who.tenantId } })).toBe(120);
  });

  it('a batch of 600 items (three chunks) answers in order', async () => {
    const who: Principal = { tenantId: `big-${randomUUID()}`, userId: 'u' };
    const items = Array.from({ length: 600 }, (_, i) => (i % 97 === 5 ? { name: 'bad' } : { clientId: randomUUID(), name: `n${i}`, ownerId: 'u' }));
    const results = await core.sync.push(who, 'Space', items);
    expect(results).toHaveLength(600);
    results.forEach((r, i) => {
      const item = items[i] as { clientId?: string };
      if (item.clientId) expect(r).toMatchObject({ success: true, clientId: item.clientId, version: 1 });
      else expect(r).toMatchObject({ success: false, errorCode: 'VALIDATION_FAILED' });
    });
    expect(await db.prisma.space.count({ where: { tenantId: who.tenantId } })).toBe(600 - items.filter((i) => !(i as { clientId?: string }).clientId).length);
  });
});
