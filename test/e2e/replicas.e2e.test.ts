/**
 * Several server replicas on one PostgreSQL database lose no write, whatever
 * their clocks say (the two cases seen in production-like runs):
 *
 * - held write: a push through replica A is held open (waiting on a row lock)
 *   while a push through replica B is sent and a device pulls through B; once A
 *   commits, the next pull from the returned cursor (or `since: lastSyncAt`)
 *   through any replica returns A's write;
 * - skewed clocks: a pull through a replica whose clock runs 2 s ahead, then a
 *   write through a replica whose clock is exact (or behind): the write is pulled.
 *
 * Real parts: the generated NestJS server over HTTP, real Prisma on one real
 * PostgreSQL database, two replicas with their own PrismaClient. The only fakes
 * are the injected clocks and the row lock a separate connection holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient } from '../../generated-example/client/generated/index.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { postGraphql } from '../support/example-server.js';
import { SYNC_PULL, SYNC_PUSH } from '../support/operations.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';

const pgAvailable = await postgresAvailability();
if (pgAvailable.url === null) console.warn(`[replicas e2e] SKIPPED: ${pgAvailable.reason}`);

let n = 0;
const tenant = () => `rep${process.pid}x${++n}`;
const uuid = () => crypto.randomUUID();

describe.skipIf(pgAvailable.url === null)('two replicas on one PostgreSQL', () => {
  let set: ReplicaSet;
  beforeAll(async () => {
    set = await startReplicas('replicas_e2e', 2);
  });
  afterAll(async () => {
    await set?.stop();
  });

  const push = async (replica: number, t: string, items: unknown[]) => {
    const res = await postGraphql(set.replicas[replica]!.url, SYNC_PUSH, { entity: 'Space', items }, `dev:${t}:u`);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.syncPush as Array<{ id: string; success: boolean; version: number; errorCode: string | null }>;
  };
  const pull = async (replica: number, t: string, args: { cursor?: string; since?: string; limit?: number }) => {
    const res = await postGraphql(set.replicas[replica]!.url, SYNC_PULL, { entity: 'Space', ...args }, `dev:${t}:u`);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.syncPull as { items: Array<{ id: string; name: string; version: number }>; cursor: string; lastSyncAt: string; hasMore: boolean };
  };
  /** Every page from a position, through the given replica. */
  const pullAll = async (replica: number, t: string, from: { cursor?: string; since?: string }) => {
    const items: Array<{ id: string; name: string; version: number }> = [];
    let args = from;
    for (;;) {
      const page = await pull(replica, t, args);
      items.push(...page.items);
      args = 'since' in from ? { since: page.lastSyncAt } : { cursor: page.cursor };
      if (!page.hasMore) return { items, last: page };
    }
  };
  const create = (name: string) => ({ clientId: uuid(), name, ownerId: 'o' });

  it('a write held open on replica A while B writes and a device pulls through B is pulled once A commits (cursor and since)', async () => {
    for (let round = 0; round < 3; round++) {
      const t = tenant();
      const [x] = await push(0, t, [create(`x${round}`)]);
      const start = await pull(0, t, {});
      expect(start.items.map((i) => i.id)).toEqual([x!.id]);

      // A separate connection holds X's row lock: A's update waits on it, inside its transaction.
      const locker = new pg.Client({ connectionString: set.databaseUrl });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM "Space" WHERE id = $1 FOR UPDATE', [x!.id]);
        const held = push(0, t, [{ id: x!.id, version: 1, name: `x${round} from A` }]);
        await waitForLockWaiters(locker, 1);

        // B writes meanwhile (it may have to wait for A: it must not overtake it unseen).
        const y = create(`y${round}`);
        const viaB = push(1, t, [y]);
        await Promise.race([viaB, sleep(300)]);
        const duringCursor = await pullAll(1, t, { cursor: start.cursor });
        const duringSince = await pullAll(1, t, { since: start.lastSyncAt });

        await locker.query('COMMIT');
        const [a] = await held;
        const [b] = await viaB;
        expect(a).toMatchObject({ success: true, version: 2 });
        expect(b).toMatchObject({ success: true });

        for (const [during, from] of [
          [duringCursor, { cursor: duringCursor.last.cursor }],
          [duringSince, { since: duringSince.last.lastSyncAt }],
        ] as const) {
          const after = await pullAll(0, t, from);
          const seen = new Map<string, number>();
          for (const item of [...during.items, ...after.items]) seen.set(item.id, Math.max(seen.get(item.id) ?? 0, item.version));
          expect(seen.get(x!.id), `round ${round}: A's update of X is never pulled (${JSON.stringify(from)})`).toBe(2);
          expect(seen.has(b!.id), `round ${round}: B's create is never pulled`).toBe(true);
        }
      } finally {
        await locker.query('ROLLBACK').catch(() => undefined);
        await locker.end();
      }
    }
  });

  it('a pull through a replica whose clock runs 2 s ahead never hides a later write through another replica', async () => {
    const skews: Array<[number, number]> = [
      [2000, 0],
      [500, 0],
      [20, 0],
      [5, 0],
      [0, -2000],
    ];
    try {
      for (const [ahead, other] of skews) {
        set.replicas[0]!.skewMs = ahead;
        set.replicas[1]!.skewMs = other;
        for (let round = 0; round < 3; round++) {
          const t = tenant();
          await push(1, t, [create('seed')]);
          const first = await pullAll(0, t, {});
          const firstSince = first.last.lastSyncAt;
          // Through the exact (or slow) clock right after the fast replica's pull.
          const [z] = await push(1, t, [create(`z${ahead}`)]);
          const byCursor = await pullAll(round % 2, t, { cursor: first.last.cursor });
          const bySince = await pullAll(round % 2, t, { since: firstSince });
          expect(byCursor.items.map((i) => i.id), `skew ${ahead}/${other} ms: the write is lost to the cursor`).toContain(z!.id);
          expect(bySince.items.map((i) => i.id), `skew ${ahead}/${other} ms: the write is lost to since`).toContain(z!.id);
        }
      }
    } finally {
      set.replicas[0]!.skewMs = 0;
      set.replicas[1]!.skewMs = 0;
    }
  });

  it('concurrent first writes of a new tenant through both replicas all land, each with its own stamp, all pulled once', async () => {
    for (let round = 0; round < 3; round++) {
      const t = tenant();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => push(i % 2, t, i % 3 === 0 ? [create(`a${i}`), create(`b${i}`)] : [create(`c${i}`)])),
      );
      const ok = results.flat();
      expect(ok.every((r) => r.success), JSON.stringify(ok.filter((r) => !r.success))).toBe(true);
      const rows = await set.replicas[0]!.prisma.space.findMany({ where: { tenantId: t } });
      expect(new Set(rows.map((r: { updatedAt: Date }) => r.updatedAt.getTime())).size).toBe(rows.length);
      const pulled = await pullAll(round % 2, t, {});
      expect(pulled.items.map((i) => i.id).sort()).toEqual(ok.map((r) => r.id).sort());
    }
  });

  it('writes through a fast and a slow replica, alternating, are all pulled once, in a stable order', async () => {
    set.replicas[0]!.skewMs = 2000;
    set.replicas[1]!.skewMs = -2000;
    try {
      const t = tenant();
      let cursor: string | undefined;
      const pulled = new Map<string, number>();
      const written: string[] = [];
      for (let i = 0; i < 12; i++) {
        const [r] = await push(i % 2, t, [create(`w${i}`)]);
        written.push(r!.id);
        const page = await pullAll((i + 1) % 2, t, cursor === undefined ? {} : { cursor });
        cursor = page.last.cursor;
        for (const item of page.items) pulled.set(item.id, (pulled.get(item.id) ?? 0) + 1);
      }
      expect([...pulled.keys()].sort()).toEqual([...written].sort());
      expect([...pulled.values()].every((c) => c === 1), 'an item was pulled twice').toBe(true);
    } finally {
      set.replicas[0]!.skewMs = 0;
      set.replicas[1]!.skewMs = 0;
    }
  });

  it("a device's later edit wins over its own earlier one whose answer was lost on a replica whose clock runs 2 s ahead", async () => {
    set.replicas[0]!.skewMs = 2000;
    const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-replica-device-'));
    const t = tenant();
    const net = { replica: 1, dropAnswer: false };
    const device = createClient({
      tenantId: t,
      url: 'http://replicas.invalid/graphql',
      token: `dev:${t}:u`,
      dbDir,
      fetch: async (_url, init) => {
        const response = await fetch(set.replicas[net.replica]!.url, { method: init.method, headers: init.headers, body: init.body });
        if (!net.dropAnswer) return response;
        net.dropAnswer = false;
        await response.text();
        throw new TypeError('fetch failed (answer lost)');
      },
    });
    try {
      const space = await device.spaces.create({ name: 'first', ownerId: 'o' });
      await device.syncAll();
      await device.spaces.update(space.id, { name: 'second' });
      net.replica = 0; // stamps its write 2 s ahead of the device's clock
      net.dropAnswer = true;
      await expect(device.syncPush(['Space'])).rejects.toThrow(/answer lost/); // committed as version 2, answer lost
      await device.spaces.update(space.id, { name: 'third' }); // edited now: 2 s "before" the server's stamp
      net.replica = 1;
      await device.syncAll();
      await device.syncAll();
      const rows = await set.replicas[1]!.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string; version: number }) => [r.name, r.version])).toEqual([['third', 3]]);
      expect(await device.spaces.get(space.id)).toMatchObject({ name: 'third', version: 3 });
      expect(await device.listConflicts()).toEqual([]);
      expect(await device.queueSize()).toBe(0);
    } finally {
      set.replicas[0]!.skewMs = 0;
      await device.close();
      closeNodeDatabase(device.database);
      rmSync(dbDir, { recursive: true, force: true });
    }
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `count` other backends of this database wait on a lock. */
async function waitForLockWaiters(client: pg.Client, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if ((rows[0] as { n: number }).n >= count) return;
    await sleep(10);
  }
  throw new Error('the held write never waited on the lock');
}

describe.skipIf(pgAvailable.url === null)('npm run example:server -- --database-url: replicas as a user starts them', () => {
  const children: ChildProcess[] = [];
  let url = '';
  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    if (url) await dropPostgresDatabase(url);
  });

  /** Starts `npm run example:server` (the same command) and resolves with its GraphQL URL. */
  function startExample(databaseUrl: string): Promise<{ graphql: string; output: () => string }> {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'scripts/example-server.ts', '--port', '0', '--database-url', databaseUrl],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`example server did not start:\n${out}`)), 90_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /GraphQL: (http:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve({ graphql: match[1]!, output: () => out });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`example server exited with ${code}:\n${out}`));
      });
    });
  }

  it('two replicas started at once on one empty database: one creates the tables, a write through one is pulled through the other', async () => {
    url = await freshPostgresDatabase(`replicas_example_${process.pid}`);
    const [a, b] = await Promise.all([startExample(url), startExample(url)]);
    const created = [a!, b!].filter((r) => r.output().includes('tables created'));
    expect(created.length, a!.output() + b!.output()).toBe(1);
    expect([a!, b!].filter((r) => r.output().includes('tables already in place')).length).toBe(1);
    expect(a!.output()).toContain(':***@'); // the password is not printed

    const t = tenant();
    const pushed = await postGraphql(a!.graphql, SYNC_PUSH, { entity: 'Space', items: [{ clientId: uuid(), name: 'via A', ownerId: 'o' }] }, `dev:${t}:u`);
    expect(pushed.data.syncPush[0]).toMatchObject({ success: true });
    const pulled = await postGraphql(b!.graphql, SYNC_PULL, { entity: 'Space' }, `dev:${t}:u`);
    expect(pulled.data.syncPull.items.map((i: { name: string }) => i.name)).toEqual(['via A']);
  }, 120_000);
});
