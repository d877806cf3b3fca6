/**
 * A pull of a stream in which nothing was committed after the device's cursor answers
 * from the sync clock's watermark alone, on real Prisma (SQLite, and PostgreSQL when
 * reachable): the entity's table is not read. Whatever is committed through the runtime
 * afterwards (a push, a write of a scope stamped for the first time by a pull) is delivered
 * at the next pull, exactly once; a write that bypassed the runtime, once `pullRecheckMs`
 * has passed since the cursor last read the table (the server's clock is the test's).
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devTokenVerifier, TrackhubCore, type EntityDescriptor, type Principal } from '../../src/runtime/server/index.js';
import { fixtureDescriptors } from './support/fixture.js';
import { fixtureVariants, type TestDatabase } from './support/prisma.js';

describe.each(await fixtureVariants('server_pull_watermark'))('a pull with nothing new, on $provider', ({ connect, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  let db: TestDatabase;
  let core: TrackhubCore;
  let hero: EntityDescriptor;
  /** Every `findMany` of the Hero table through the core's client, by where it was asked. */
  const heroReads: unknown[] = [];
  /** The server's wall clock (stamps and `checkedAt`), moved by the test. */
  let now = Date.now();
  const RECHECK = 5000;

  beforeAll(async () => {
    db = await connect();
    const descriptors = await fixtureDescriptors();
    hero = descriptors.find((d) => d.name === 'Hero')!;
    // The core's client, with the Hero delegate's findMany counted (everything else as is).
    const counted = new Proxy(db.prisma.hero, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (key !== 'findMany') return typeof value === 'function' ? value.bind(target) : value;
        return (args: unknown) => {
          heroReads.push(args);
          return value.call(target, args);
        };
      },
    });
    const prisma = new Proxy(db.prisma, {
      get(target, key) {
        if (key === hero.delegate) return counted;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    core = new TrackhubCore({ prisma, verifyToken: devTokenVerifier, logger: { error: () => {} }, clock: () => now, pullRecheckMs: RECHECK }, descriptors);
  });
  afterAll(async () => {
    await db?.close();
  });

  const names = (page: { items: Array<Record<string, unknown>> }) => page.items.map((item) => item.name).sort();

  it('answers from the watermark without reading the table, and delivers the next push', async () => {
    const who: Principal = { tenantId: `wm-${randomUUID()}`, userId: 'u' };
    const pushed = await core.sync.push(who, 'Hero', [
      { clientId: randomUUID(), name: 'a' },
      { clientId: randomUUID(), name: 'b' },
    ]);
    expect(pushed.every((r) => r.success)).toBe(true);

    const first = await core.sync.pull(who, 'Hero', {});
    expect(names(first)).toEqual(['a', 'b']);
    expect(first.hasMore).toBe(false);

    // Nothing committed since: no read of the table, and the same position.
    heroReads.length = 0;
    now += 1000;
    const again = await core.sync.pull(who, 'Hero', { cursor: first.cursor });
    expect(heroReads).toEqual([]);
    expect(again.items).toEqual([]);
    expect(again.cursor).toBe(first.cursor);
    expect(again.lastSyncAt.getTime()).toBe(first.lastSyncAt.getTime());
    // `since` alone carries no time of a last read: such a pull always reads.
    const bySince = await core.sync.pull(who, 'Hero', { since: first.lastSyncAt });
    expect(bySince.items).toEqual([]);
    expect(heroReads.length).toBe(1);
    heroReads.length = 0;

    // A write committed afterwards is read from the table and delivered once.
    const [next] = await core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'c' }]);
    expect(next).toMatchObject({ success: true });
    const after = await core.sync.pull(who, 'Hero', { cursor: again.cursor });
    expect(heroReads.length).toBe(1);
    expect(names(after)).toEqual(['c']);
    heroReads.length = 0;
    expect(names(await core.sync.pull(who, 'Hero', { since: bySince.lastSyncAt }))).toEqual(['c']);
    expect((await core.sync.pull(who, 'Hero', { cursor: after.cursor })).items).toEqual([]);
  });

  it('reads the table again once pullRecheckMs has passed, and delivers a write that bypassed the runtime', async () => {
    const who: Principal = { tenantId: `wm-${randomUUID()}`, userId: 'u' };
    await core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'pushed' }]);
    const first = await core.sync.pull(who, 'Hero', {});
    expect(names(first)).toEqual(['pushed']);
    // Your own Prisma call: not stamped on the clock, so the watermark does not move.
    now += 10;
    await db.prisma.hero.create({ data: { tenantId: who.tenantId, name: 'direct', clientId: randomUUID(), updatedAt: new Date(now) } });

    heroReads.length = 0;
    now += RECHECK - 20;
    const soon = await core.sync.pull(who, 'Hero', { cursor: first.cursor });
    expect(soon.items).toEqual([]);
    expect(heroReads).toEqual([]);

    now += 10;
    const later = await core.sync.pull(who, 'Hero', { cursor: soon.cursor });
    expect(heroReads.length).toBe(1);
    expect(names(later)).toEqual(['direct']);
    expect((await core.sync.pull(who, 'Hero', { cursor: later.cursor })).items).toEqual([]);
  });

  it('with pullRecheckMs 0, reads the table on every pull', async () => {
    const always = new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, logger: { error: () => {} }, pullRecheckMs: 0 }, await fixtureDescriptors());
    const who: Principal = { tenantId: `wm-${randomUUID()}`, userId: 'u' };
    await always.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'pushed' }]);
    const first = await always.sync.pull(who, 'Hero', {});
    await db.prisma.hero.create({ data: { tenantId: who.tenantId, name: 'direct', clientId: randomUUID() } });
    expect(names(await always.sync.pull(who, 'Hero', { cursor: first.cursor }))).toEqual(['direct']);
    expect(() => new TrackhubCore({ prisma: db.prisma, verifyToken: devTokenVerifier, pullRecheckMs: -1 }, [])).toThrow(/pullRecheckMs must be an integer of 0 or more/);
  });

  it('stamps a scope that rows reached before the clock did, past its newest row, on its first pull', async () => {
    const who: Principal = { tenantId: `wm-${randomUUID()}`, userId: 'u' };
    // Rows written before the clock existed for the scope (an upgraded database), one of them
    // stamped ahead of this process's clock.
    const ahead = new Date(Date.now() + 60_000);
    await db.prisma.hero.create({ data: { tenantId: who.tenantId, name: 'old', clientId: randomUUID() } });
    await db.prisma.hero.create({ data: { tenantId: who.tenantId, name: 'ahead', clientId: randomUUID(), updatedAt: ahead } });
    expect(await core.clock.watermark(db.prisma, hero, who)).toBeNull();

    heroReads.length = 0;
    const first = await core.sync.pull(who, 'Hero', { since: new Date(0) });
    expect(names(first)).toEqual(['ahead', 'old']);
    expect(heroReads.length).toBe(1);
    // The pull gave the scope its first stamp, after the newest row.
    const stamped = await core.clock.watermark(db.prisma, hero, who);
    expect(stamped).toBeGreaterThan(ahead.getTime());

    // The next pull moves to the watermark, the one after needs no read.
    const second = await core.sync.pull(who, 'Hero', { cursor: first.cursor });
    expect(second.items).toEqual([]);
    heroReads.length = 0;
    const third = await core.sync.pull(who, 'Hero', { cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(heroReads).toEqual([]);

    // A push continues after the stamp and is delivered.
    const [next] = await core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'new' }]);
    expect(next).toMatchObject({ success: true });
    const after = await core.sync.pull(who, 'Hero', { cursor: third.cursor });
    expect(names(after)).toEqual(['new']);
    expect(after.items[0]!.updatedAt).toBeDefined();
  });
});
