/**
 * Pull read-ahead (src/runtime/server/read-ahead.ts) against real Prisma on SQLite, and on
 * PostgreSQL when one is reachable: the next page of a stream is read once the page before
 * it is answered and handed to the same principal's request for it; every other request
 * reads its page as usual; a write between two pages still reaches the device.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devTokenVerifier, TrackhubCore, type EntityDescriptor, type Principal, type TrackhubOptions } from '../../src/runtime/server/index.js';
import { fixtureDescriptors } from './support/fixture.js';
import { fixtureVariants, type TestDatabase } from './support/prisma.js';

describe.each(await fixtureVariants('server_read_ahead'))('pull read-ahead on $provider', ({ connect, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  let db: TestDatabase;
  let descriptors: EntityDescriptor[];
  const silent = { error: () => {} };
  const core = (options: Partial<TrackhubOptions> = {}): TrackhubCore =>
    new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, logger: silent, ...options }, descriptors);

  beforeAll(async () => {
    db = await connect();
    descriptors = await fixtureDescriptors();
  });
  afterAll(async () => {
    await db?.close();
  });

  /** A tenant holding `n` heroes, created through the runtime (stamped in order). */
  async function tenantWith(server: TrackhubCore, n: number): Promise<Principal> {
    const who: Principal = { tenantId: `ra-${randomUUID()}`, userId: 'u1' };
    const results = await server.sync.push(who, 'Hero', Array.from({ length: n }, (_, i) => ({ clientId: randomUUID(), name: `hero ${i}` })));
    expect(results.every((r) => r.success)).toBe(true);
    return who;
  }

  /** Lets the read-ahead started after an answer run to its end. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  /** Deletes, bypassing the runtime (nothing is stamped), the heroes of a page: a page read before it still holds them. */
  async function dropBehindTheRuntime(ids: string[]): Promise<void> {
    await db.prisma.hero.deleteMany({ where: { id: { in: ids } } });
  }

  /** Pages 2 and 3 of a 9-hero stream with limit 3; between them, page 2's rows are deleted behind the runtime. */
  async function secondPage(server: TrackhubCore, asker?: Principal) {
    const who = await tenantWith(server, 9);
    const first = await server.sync.pull(who, 'Hero', { limit: 3 });
    expect(first).toMatchObject({ hasMore: true });
    await settle();
    const truth = await db.prisma.hero.findMany({ where: { tenantId: who.tenantId }, orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }] });
    await dropBehindTheRuntime(truth.slice(3, 6).map((h: { id: string }) => h.id));
    const second = await server.sync.pull(asker ?? who, 'Hero', { limit: 3, cursor: first.cursor });
    return { second, expected: truth.slice(3, 6).map((h: { name: string }) => h.name) };
  }

  it('answers the next page from what it read when the page before was answered', async () => {
    const { second, expected } = await secondPage(core());
    expect(second.items.map((i) => i.name)).toEqual(expected);
    expect(second.hasMore).toBe(true);
  });

  it('reads the page when asked with pullReadAhead: false, for another principal, or once the page expired', async () => {
    expect((await secondPage(core({ pullReadAhead: false }))).second.items.map((i) => i.name)).toEqual(['hero 6', 'hero 7', 'hero 8']);
    // Same tenant and cursor, another user: never handed what was read for someone else.
    const other = await (async () => {
      const server = core();
      const who = await tenantWith(server, 9);
      const first = await server.sync.pull(who, 'Hero', { limit: 3 });
      await settle();
      const rows = await db.prisma.hero.findMany({ where: { tenantId: who.tenantId }, orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }] });
      await dropBehindTheRuntime(rows.slice(3, 6).map((h: { id: string }) => h.id));
      return server.sync.pull({ ...who, userId: 'u2' }, 'Hero', { limit: 3, cursor: first.cursor });
    })();
    expect(other.items.map((i) => i.name)).toEqual(['hero 6', 'hero 7', 'hero 8']);
    // Expired: kept for 1 ms, asked 50 ms later.
    expect((await secondPage(core({ pullReadAhead: { ttlMs: 1 } }))).second.items.map((i) => i.name)).toEqual(['hero 6', 'hero 7', 'hero 8']);
    // No room: nothing is read ahead beyond maxItems.
    expect((await secondPage(core({ pullReadAhead: { maxItems: 2 } }))).second.items.map((i) => i.name)).toEqual(['hero 6', 'hero 7', 'hero 8']);
  });

  it('gives a page read ahead once: the same request again reads it', async () => {
    const server = core();
    const who = await tenantWith(server, 6);
    const first = await server.sync.pull(who, 'Hero', { limit: 3 });
    await settle();
    const once = await server.sync.pull(who, 'Hero', { limit: 3, cursor: first.cursor });
    await db.prisma.hero.deleteMany({ where: { tenantId: who.tenantId, name: 'hero 5' } });
    const again = await server.sync.pull(who, 'Hero', { limit: 3, cursor: first.cursor });
    expect(once.items.map((i) => i.name)).toEqual(['hero 3', 'hero 4', 'hero 5']);
    expect(again.items.map((i) => i.name)).toEqual(['hero 3', 'hero 4']);
  });

  it('loses no write made between two pages: the device gets it on a later page', async () => {
    const server = core();
    const who = await tenantWith(server, 9);
    const pages = [await server.sync.pull(who, 'Hero', { limit: 3 })];
    await settle();
    // Another device edits a hero of the page already read ahead.
    const target = (await db.prisma.hero.findMany({ where: { tenantId: who.tenantId, name: 'hero 4' } }))[0] as { id: string; version: number };
    const [edit] = await server.sync.push({ ...who, userId: 'u2' }, 'Hero', [{ id: target.id, version: target.version, name: 'hero 4 edited' }]);
    expect(edit).toMatchObject({ success: true });
    while (pages.at(-1)!.hasMore) pages.push(await server.sync.pull(who, 'Hero', { limit: 3, cursor: pages.at(-1)!.cursor }));
    const names = pages.flatMap((p) => p.items.map((i) => i.name));
    // Page 2 was read before the edit; the edit comes after it, last in the stream.
    expect(names.slice(3, 6)).toEqual(['hero 3', 'hero 4', 'hero 5']);
    expect(names.at(-1)).toBe('hero 4 edited');
    const latest = new Map(pages.flatMap((p) => p.items.map((i) => [i.id, i.name])));
    expect(latest.get(target.id)).toBe('hero 4 edited');
  });

  it('refuses options that are not whole numbers of 0 or more', () => {
    expect(() => core({ pullReadAhead: { ttlMs: -1 } })).toThrow(/pullReadAhead.ttlMs must be an integer of 0 or more/);
  });
});
