/**
 * The sync clock's watermark while a write of the same process is open, on real Prisma
 * (SQLite, where the open transaction and a pull share one connection, and PostgreSQL
 * when reachable): it never reaches the stamps of that write, even when the write then
 * rolls back, so a device positioned at it still gets the next write's rows, which
 * (with a clock that stands still) are stamped exactly where the rolled-back ones were.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { devTokenVerifier, TrackhubCore, type EntityDescriptor, type Principal } from '../../src/runtime/server/index.js';
import { fixtureDescriptors } from './support/fixture.js';
import { fixtureVariants, type TestDatabase } from './support/prisma.js';

const STILL = Date.now() - 60_000;

describe.each(await fixtureVariants('server_sync_clock'))('the watermark while a write is open, on $provider', ({ connect, skip }) => {
  if (skip) {
    it.skip('PostgreSQL not reachable (see the warning above)', () => {});
    return;
  }
  let db: TestDatabase;
  let core: TrackhubCore;
  let hero: EntityDescriptor;
  /** Set to make the next write wait inside its transaction, then roll back. */
  let hold: { entered: () => void; release: Promise<void> } | null = null;

  beforeAll(async () => {
    db = await connect();
    const descriptors = await fixtureDescriptors();
    hero = descriptors.find((d) => d.name === 'Hero')!;
    core = new TrackhubCore(
      {
        prisma: db.prisma,
        verifyToken: devTokenVerifier,
        logger: { error: () => {} },
        // A clock that stands still: every stamp is the last one + 1 ms, so the write after a
        // rolled-back one uses the very stamps the rolled-back one had.
        clock: () => STILL,
        async beforeCommit() {
          const h = hold;
          if (!h) return;
          hold = null;
          h.entered();
          await h.release;
          throw new Error('rolled back by the test');
        },
      },
      descriptors,
    );
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stays below an open write that then rolls back, and the next write is pulled from it', async () => {
    const who: Principal = { tenantId: `clock-${randomUUID()}`, userId: 'u' };
    const [first] = await core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'committed' }]);
    expect(first).toMatchObject({ success: true });
    const committed = await core.clock.watermark(db.prisma, hero, who);
    expect(committed).not.toBeNull();

    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    hold = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
    const open = core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'rolled back' }]);
    await inside;
    // The open write has moved the clock row (uncommitted) past `committed`.
    expect(core.clock.localHorizon(hero, who)).toBeGreaterThan(committed!);
    const during = await core.clock.watermark(db.prisma, hero, who);
    expect(during).toBe(committed);
    release();
    const [failed] = await open;
    expect(failed).toMatchObject({ success: false, errorCode: 'INTERNAL' });

    // A device positioned at what it was told gets the next write.
    const page = await core.sync.pull(who, 'Hero', { since: new Date(during!) });
    expect(page.items).toEqual([]);
    const [next] = await core.sync.push(who, 'Hero', [{ clientId: randomUUID(), name: 'next' }]);
    expect(next).toMatchObject({ success: true });
    const after = await core.sync.pull(who, 'Hero', { cursor: page.cursor });
    expect(after.items.map((item) => item.name)).toEqual(['next']);
  });
});
