/**
 * The seed's test matrix (PRODUCT.md) end to end: the generated server over
 * HTTP on real Prisma (SQLite always, PostgreSQL when reachable), real
 * WatermelonDB SQLite databases on disk, and an injectable fetch for the
 * network faults. Every test asserts the final state of the server (rows read
 * through Prisma) and of every device. One server boot per database.
 *
 * Scenario -> test name: see test/e2e/README.md ("Seed test matrix").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { httpUploader, SyncWorker, uploadsUrl } from '../../src/runtime/client/node.js';
import { exampleDatabases, postGraphql, type RunningServer } from '../support/example-server.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const databases = await exampleDatabases('seed_matrix');

// ------------------------------------------------------------------ network faults

/** What the fault injector does with one request. */
type Fault = 'ok' | 'offline' | 'fail-before' | 'fail-after' | 'hang-after';

interface FaultyNet {
  fetch: typeof fetch;
  /** Decides the fate of each request (n counts every request, from 1; push counts syncPush requests). */
  decide: (req: { n: number; push: number; body: string }) => Fault;
  online: boolean;
  requests: number;
  pushes: number;
  injected: Record<Fault, number>;
  /** Requests the server answered but whose answer the device never got (fail-after, hang-after). */
  lost: number;
  /** Time spent waiting for the server (ms). */
  waitMs: number;
}

function faultyNet(decide: FaultyNet['decide'] = () => 'ok'): FaultyNet {
  const net: FaultyNet = {
    decide,
    online: true,
    requests: 0,
    pushes: 0,
    injected: {
      ok: 0,
      offline: 0,
      'fail-before': 0,
      'fail-after': 0,
      'hang-after': 0,
    },
    lost: 0,
    waitMs: 0,
    fetch: (async (url: string, init: RequestInit) => {
      if (!net.online) {
        net.injected.offline += 1;
        throw new TypeError('fetch failed (airplane mode)');
      }
      const body = String(init.body);
      net.requests += 1;
      if (body.includes('syncPush')) net.pushes += 1;
      const fault = net.decide({
        n: net.requests,
        push: body.includes('syncPush') ? net.pushes : 0,
        body,
      });
      net.injected[fault] += 1;
      if (fault === 'fail-before') throw new TypeError('fetch failed (injected, request not sent)');
      const t0 = performance.now();
      const response =
        fault === 'ok'
          ? new Response(await (await fetch(url, init)).text(), {
              headers: { 'content-type': 'application/json' },
            })
          : await fetch(url, init);
      net.waitMs += performance.now() - t0;
      if (fault === 'ok') return response;
      await response.text(); // the server has answered: its transaction is committed
      net.lost += 1;
      if (fault === 'fail-after') throw new TypeError('fetch failed (injected, response lost)');
      return new Promise<Response>(() => undefined); // hang-after: the app is killed while waiting
    }) as typeof fetch,
  };
  return net;
}

/** Seeded PRNG (mulberry32): the flakiness is random but reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ devices

let server: RunningServer;
const dirs: string[] = [];
const clients: OfflineFirstClient[] = [];

interface Device {
  client: OfflineFirstClient;
  net: FaultyNet;
  dbDir: string;
  tenantId: string;
  userId: string;
}

function device(
  tenantId: string,
  userId: string,
  options: {
    net?: FaultyNet;
    dbDir?: string;
    pushBatchSize?: number;
    pullLimit?: number;
    track?: boolean;
    /** Give the device the HTTP uploader of media files (over the same network switch). */
    uploads?: boolean;
  } = {},
): Device {
  const net = options.net ?? faultyNet();
  const dbDir = options.dbDir ?? mkdtempSync(path.join(tmpdir(), `trackhub-matrix-${tenantId}-`));
  if (!options.dbDir) dirs.push(dbDir);
  const client = createClient({
    tenantId,
    url: server.url,
    token: `dev:${tenantId}:${userId}`,
    dbDir,
    fetch: net.fetch,
    ...(options.pushBatchSize ? { pushBatchSize: options.pushBatchSize } : {}),
    ...(options.pullLimit ? { pullLimit: options.pullLimit } : {}),
    ...(options.uploads
      ? {
          uploader: httpUploader({
            url: uploadsUrl(server.url),
            token: `dev:${tenantId}:${userId}`,
            fetch: async (url, init) => {
              if (!net.online) throw new TypeError('fetch failed (airplane mode)');
              return fetch(url, init);
            },
          }),
        }
      : {}),
  });
  if (options.track !== false) clients.push(client);
  return { client, net, dbDir, tenantId, userId };
}

/** Calls syncAll until it succeeds (bounded). Returns the number of attempts. */
async function syncUntilDone(client: OfflineFirstClient, max = 60): Promise<number> {
  for (let attempt = 1; attempt <= max; attempt++) {
    try {
      await client.syncAll();
      return attempt;
    } catch {
      // injected fault: try again
    }
  }
  throw new Error(`syncAll did not succeed in ${max} attempts`);
}

const gql = (query: string, variables: Record<string, unknown>, token?: string) => postGraphql(server.url, query, variables, token);

/** A device-comparable view of the live server Spaces of a tenant: [localId, serverId, name, description, version]. */
async function serverSpaces(tenantId: string, where: Record<string, unknown> = {}): Promise<unknown[][]> {
  const rows: any[] = await server.prisma.space.findMany({
    where: { tenantId, deletedAt: null, ...where },
  });
  return rows
    .map((r) => [r.clientId ?? r.id, r.id, r.name, r.description ?? null, r.version])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

async function deviceSpaces(client: OfflineFirstClient): Promise<unknown[][]> {
  return (await client.spaces.list())
    .map((s) => [s.id, s.serverId, s.name, s.description ?? null, s.version])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

/** Server and every device hold exactly the same live Spaces (with the prefix filter), nothing is queued, no clientId twice. */
async function expectSpacesConverged(
  tenantId: string,
  devices: OfflineFirstClient[],
  namePrefix?: string,
): Promise<unknown[][]> {
  const where = namePrefix ? { name: { startsWith: namePrefix } } : {};
  const expected = await serverSpaces(tenantId, where);
  for (const client of devices) {
    const local = (await deviceSpaces(client)).filter((row) => !namePrefix || String(row[2]).startsWith(namePrefix));
    expect(local).toEqual(expected);
    expect(await client.queueSize()).toBe(0);
  }
  await expectNoDuplicates();
  return expected;
}

async function expectNoDuplicates(): Promise<void> {
  for (const model of ['space', 'group', 'checklist', 'checklistItem']) {
    const rows: { clientId: string | null; tenantId: string }[] = await server.prisma[model].findMany({
      select: { clientId: true, tenantId: true },
    });
    const keys = rows.filter((r) => r.clientId !== null).map((r) => `${r.tenantId}/${r.clientId}`);
    expect(new Set(keys).size, `${model}: a clientId appears twice`).toBe(keys.length);
  }
}

describe.each(databases)('seed test matrix on $name', ({ start }) => {
  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('1. airplane mode: offline edits are kept locally and synced on reconnect', async () => {
    const a = device('air', 'alice');
    const b = device('air', 'alice');
    const kept = await a.client.spaces.create({
      name: 'air: kept',
      ownerId: 'alice',
    });
    const doomed = await a.client.spaces.create({
      name: 'air: doomed',
      ownerId: 'alice',
    });
    await a.client.syncAll();

    a.net.online = false;
    const fresh = await a.client.spaces.create({
      name: 'air: fresh',
      ownerId: 'alice',
    });
    const group = await a.client.groups.create({
      name: 'air: shelf',
      spaceId: fresh.id,
    });
    await a.client.spaces.update(kept.id, { description: 'edited offline' });
    await a.client.spaces.delete(doomed.id);
    await expect(a.client.syncAll()).rejects.toThrow();
    expect(await a.client.queueSize()).toBe(4);
    expect(await server.prisma.space.count({ where: { clientId: fresh.id } })).toBe(0);
    expect((await server.prisma.space.findFirst({ where: { clientId: kept.id } })).description).toBeNull();
    expect((await a.client.spaces.list()).map((r) => r.name).sort()).toEqual(['air: fresh', 'air: kept']);

    a.net.online = true;
    await a.client.syncAll();
    await b.client.syncAll();

    const spaces = await expectSpacesConverged('air', [a.client, b.client]);
    expect(spaces.map((r) => [r[2], r[3]]).sort()).toEqual([
      ['air: fresh', null],
      ['air: kept', 'edited offline'],
    ]);
    const doomedRow = await server.prisma.space.findFirst({
      where: { clientId: doomed.id },
    });
    expect(doomedRow.deletedAt).toBeInstanceOf(Date);
    const groupRow = await server.prisma.group.findFirst({
      where: { clientId: group.id },
    });
    const freshRow = await server.prisma.space.findFirst({
      where: { clientId: fresh.id },
    });
    expect(groupRow).toMatchObject({
      tenantId: 'air',
      name: 'air: shelf',
      spaceId: freshRow.id,
    });
    for (const client of [a.client, b.client]) {
      expect(await client.groups.get(group.id)).toMatchObject({
        serverId: groupRow.id,
        spaceId: fresh.id,
      });
      expect(await client.spaces.get(doomed.id)).toBeNull();
    }
  });

  it('2. partial sync: a push batch fails midway, a later syncAll resumes with nothing lost or duplicated', async () => {
    // Push #2 reaches the server but its answer is lost; push #3 never leaves the device.
    const net = faultyNet(({ push }) => (push === 2 ? 'fail-after' : 'ok'));
    const a = device('partial', 'alice', { net, pushBatchSize: 5 });
    const created = await a.client.spaces.createMany(
      Array.from({ length: 23 }, (_, i) => ({
        name: `partial ${String(i).padStart(2, '0')}`,
        ownerId: 'alice',
      })),
    );
    await expect(a.client.syncAll()).rejects.toThrow(/injected/);
    // Batches 1 and 2 are committed on the server; the device only knows about batch 1.
    expect(await server.prisma.space.count({ where: { tenantId: 'partial' } })).toBe(10);
    expect(await a.client.queueSize()).toBe(18);
    const failed = (await a.client.queue.open()).filter((op) => op.status === 'failed');
    expect(failed).toHaveLength(5);
    expect(failed.every((op) => op.attempts === 1 && /injected/.test(op.lastError ?? ''))).toBe(true);

    const report = await a.client.syncAll();
    expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({
      pushed: 18,
      succeeded: 18,
      failed: 0,
    });
    const b = device('partial', 'bob');
    await b.client.syncAll();
    const spaces = await expectSpacesConverged('partial', [a.client, b.client]);
    expect(spaces).toHaveLength(23);
    expect(spaces.map((r) => r[0]).sort()).toEqual(created.map((s) => s.id).sort());
    expect(spaces.every((r) => r[4] === 1)).toBe(true); // each create applied exactly once
    expect((await a.client.metrics()).retries).toBeGreaterThanOrEqual(5);
  });

  it('3a. conflict, timestamp rule: the server copy is newer -> the device adopts it', async () => {
    const a = device('conflict', 'alice');
    const b = device('conflict', 'alice');
    const s = await a.client.spaces.create({
      name: 'ts-server-newer',
      ownerId: 'alice',
    });
    await a.client.syncAll();
    await b.client.syncAll();

    await a.client.spaces.update(s.id, { name: 'ts-server-newer: A (older)' });
    await new Promise((r) => setTimeout(r, 5));
    await b.client.spaces.update(s.id, { name: 'ts-server-newer: B (newer)' });
    await b.client.syncAll();
    await a.client.syncAll();
    await b.client.syncAll();

    const row = await server.prisma.space.findFirst({
      where: { clientId: s.id },
    });
    expect(row).toMatchObject({
      name: 'ts-server-newer: B (newer)',
      version: 2,
    });
    await expectSpacesConverged('conflict', [a.client, b.client], 'ts-server-newer');
    const conflicts = await a.client.listConflicts({ entity: 'Space' });
    expect(conflicts.filter((c) => c.entityId === s.id).map((c) => [c.resolved, c.resolution])).toEqual([
      [true, 'server'],
    ]);
  });

  it('3b. conflict, timestamp rule: the local edit is newer -> applied on the server (version + 1)', async () => {
    const a = device('conflict', 'alice');
    const b = device('conflict', 'alice');
    const s = await a.client.spaces.create({
      name: 'ts-local-newer',
      ownerId: 'alice',
    });
    await a.client.syncAll();
    await b.client.syncAll();

    await b.client.spaces.update(s.id, { name: 'ts-local-newer: B (older)' });
    await b.client.syncAll();
    await new Promise((r) => setTimeout(r, 5));
    await a.client.spaces.update(s.id, { name: 'ts-local-newer: A (newer)' }); // A has not seen B's write
    await a.client.syncAll();
    await b.client.syncAll();

    const row = await server.prisma.space.findFirst({
      where: { clientId: s.id },
    });
    expect(row).toMatchObject({
      name: 'ts-local-newer: A (newer)',
      version: 3,
    });
    await expectSpacesConverged('conflict', [a.client, b.client], 'ts-local-newer');
    expect((await a.client.listConflicts({ resolved: false })).filter((c) => c.entityId === s.id)).toEqual([]);
  });

  it('3c. conflict, timestamp rule: equal edit times wait for the user; resolveConflict(local) pushes the device copy', async () => {
    const a = device('conflict', 'alice');
    const b = device('conflict', 'alice');
    const s = await a.client.spaces.create({
      name: 'ts-equal',
      ownerId: 'alice',
    });
    await a.client.syncAll();
    await b.client.syncAll();

    await a.client.spaces.update(s.id, { name: 'ts-equal: A' });
    await b.client.spaces.update(s.id, { name: 'ts-equal: B' });
    await b.client.syncAll();
    // B's write landed at the very millisecond A edited (a tie cannot be produced reliably with two
    // real clocks): stamp the server copy with A's edit time through Prisma.
    const [op] = await a.client.queue.open('Space', [s.id]);
    await server.prisma.space.update({
      where: { id: (await a.client.spaces.get(s.id))!.serverId },
      data: { updatedAt: new Date(op!.editedAt) },
    });

    await a.client.syncAll();
    const waiting = await a.client.listConflicts({ resolved: false });
    expect(waiting.map((c) => [c.entity, c.entityId, c.conflictType !== '', c.resolved])).toEqual([
      ['Space', s.id, true, false],
    ]);
    expect(await a.client.queueSize()).toBe(1); // the operation waits for the user
    expect((await a.client.spaces.get(s.id))?.name).toBe('ts-equal: A'); // the device keeps its copy meanwhile
    expect((await server.prisma.space.findFirst({ where: { clientId: s.id } })).name).toBe('ts-equal: B');

    await a.client.resolveConflict(waiting[0]!.id, 'local');
    await a.client.syncAll();
    await b.client.syncAll();
    const row = await server.prisma.space.findFirst({
      where: { clientId: s.id },
    });
    expect(row).toMatchObject({ name: 'ts-equal: A', version: 3 });
    await expectSpacesConverged('conflict', [a.client, b.client], 'ts-equal');
    expect(await a.client.listConflicts({ resolved: false })).toEqual([]);
  });

  it('3d. conflict, merge strategy (ChecklistItem): edits of different fields on two devices are both kept', async () => {
    const a = device('conflict', 'alice');
    const b = device('conflict', 'alice');
    const list = await a.client.checklists.create({ title: 'merge list' });
    const item = await a.client.checklistItems.create({
      label: 'milk',
      checklistId: list.id,
      position: 1,
    });
    await a.client.syncAll();
    await b.client.syncAll();

    await a.client.checklistItems.update(item.id, { label: 'oat milk' });
    await b.client.checklistItems.update(item.id, { done: true, weight: 1.5 });
    await b.client.syncAll();
    await a.client.syncAll();
    await b.client.syncAll();

    const row = await server.prisma.checklistItem.findFirst({
      where: { clientId: item.id },
    });
    expect(row).toMatchObject({
      label: 'oat milk',
      done: true,
      weight: 1.5,
      position: 1,
      version: 3,
    });
    for (const client of [a.client, b.client]) {
      expect(await client.checklistItems.get(item.id)).toMatchObject({
        label: 'oat milk',
        done: true,
        weight: 1.5,
        position: 1,
        version: row.version,
        serverId: row.id,
        checklistId: list.id,
      });
      expect(await client.queueSize()).toBe(0);
    }
    await expectNoDuplicates();
  });

  it('4. network flakiness: ~30% of requests fail (some after the server committed); retries converge without duplicates', async () => {
    const random = mulberry32(20261124);
    const flaky = (): FaultyNet =>
      faultyNet(() => {
        const x = random();
        return x < 0.15 ? 'fail-before' : x < 0.3 ? 'fail-after' : 'ok';
      });
    const a = device('flaky', 'alice', { net: flaky(), pushBatchSize: 7 });
    const b = device('flaky', 'alice', {
      net: flaky(),
      pushBatchSize: 7,
      pullLimit: 9,
    });

    const spaces = await a.client.spaces.createMany(
      Array.from({ length: 40 }, (_, i) => ({
        name: `flaky ${i}`,
        ownerId: 'alice',
      })),
    );
    let attempts = await syncUntilDone(a.client);
    for (const s of spaces.slice(0, 15)) await a.client.spaces.update(s.id, { description: `edited by A` });
    for (const s of spaces.slice(30, 40)) await a.client.spaces.delete(s.id);
    const more = await a.client.spaces.createMany(
      Array.from({ length: 10 }, (_, i) => ({
        name: `flaky extra ${i}`,
        ownerId: 'alice',
      })),
    );
    attempts += await syncUntilDone(a.client);
    attempts += await syncUntilDone(b.client);
    for (const s of spaces.slice(10, 20)) await b.client.spaces.update(s.id, { name: `flaky ${s.name} by B` });
    attempts += await syncUntilDone(b.client);
    attempts += await syncUntilDone(a.client);

    const injected = a.net.injected['fail-after'] + b.net.injected['fail-after'];
    expect(injected, 'some faults hit after the server committed').toBeGreaterThan(0);
    expect(a.net.injected['fail-before'] + b.net.injected['fail-before']).toBeGreaterThan(0);
    const final = await expectSpacesConverged('flaky', [a.client, b.client]);
    expect(final).toHaveLength(40);
    expect(final.map((r) => r[0]).sort()).toEqual([...spaces.slice(0, 30), ...more].map((s) => s.id).sort());
    expect(final.filter((r) => r[3] === 'edited by A')).toHaveLength(15);
    expect(final.filter((r) => String(r[2]).endsWith('by B'))).toHaveLength(10);
    expect(
      await server.prisma.space.count({
        where: { tenantId: 'flaky', deletedAt: { not: null } },
      }),
    ).toBe(10);
    console.info(
      `[matrix] flakiness: ${attempts} syncAll calls, injected ${JSON.stringify(a.net.injected)} (A) ${JSON.stringify(b.net.injected)} (B)`,
    );
  });

  it('5. 10k local changes (creates, updates, deletes) are pushed and pulled by a second device', async () => {
    const tStart = Date.now();
    const a = device('bulk', 'alice');
    const seeded = await a.client.spaces.createMany(
      Array.from({ length: 3000 }, (_, i) => ({
        name: `bulk seed ${i}`,
        ownerId: 'alice',
      })),
    );
    await a.client.syncAll();

    const t0 = Date.now();
    const tSeed = t0 - tStart;
    // 10,000 changes: 7,000 creates, 2,000 updates, 1,000 deletes.
    const created = await a.client.spaces.createMany(
      Array.from({ length: 7000 }, (_, i) => ({
        name: `bulk new ${i}`,
        ownerId: 'alice',
        position: i,
      })),
    );
    for (const s of seeded.slice(0, 2000)) await a.client.spaces.update(s.id, { description: 'bulk edited' });
    for (const s of seeded.slice(2000, 3000)) await a.client.spaces.delete(s.id);
    const tLocal = Date.now();
    expect(await a.client.queueSize()).toBe(10_000);

    // The local writes above kept the event loop busy for seconds; the first request may meet a
    // keep-alive socket the server is closing (ECONNRESET): that is a network error, retried like any other.
    const pushAttempts = await syncUntilDone(a.client, 3);
    const tPush = Date.now();
    const b = device('bulk', 'bob');
    await b.client.syncAll();
    const tPull = Date.now();

    expect(
      await server.prisma.space.count({
        where: { tenantId: 'bulk', deletedAt: null },
      }),
    ).toBe(9000);
    expect(
      await server.prisma.space.count({
        where: { tenantId: 'bulk', deletedAt: { not: null } },
      }),
    ).toBe(1000);
    expect(
      await server.prisma.space.count({
        where: { tenantId: 'bulk', description: 'bulk edited' },
      }),
    ).toBe(2000);
    const final = await expectSpacesConverged('bulk', [a.client, b.client]);
    expect(final).toHaveLength(9000);
    expect(final.filter((r) => r[0] === created[6999]!.id)).toHaveLength(1);
    console.info(
      `[matrix] 10k changes: seed (3000 creates + sync) ${tSeed} ms, local writes ${tLocal - t0} ms, ` +
        `push+pull on A ${tPush - tLocal} ms (${pushAttempts} syncAll, ${Math.round(a.net.waitMs)} ms waiting for the server in all; last push ${(await a.client.metrics()).lastPushMs} ms, pull ${(await a.client.metrics()).lastPullMs} ms), first sync on B ${tPull - tPush} ms`,
    );
  }, 120_000);

  it('6. app killed mid-sync: a new client on the same database file resumes, converges, no duplicates', async () => {
    // The first push reaches the server, then the app dies while waiting for the answer.
    const net = faultyNet(({ push }) => (push === 1 ? 'hang-after' : 'ok'));
    const first = device('killed', 'alice', {
      net,
      pushBatchSize: 4,
      track: false,
    });
    const space = await first.client.spaces.create({
      name: 'killed space',
      ownerId: 'alice',
    });
    await first.client.spaces.createMany(
      Array.from({ length: 6 }, (_, i) => ({
        name: `killed ${i}`,
        ownerId: 'alice',
      })),
    );
    void first.client.syncAll().catch(() => undefined); // never settles: the process "dies" here
    for (let i = 0; i < 500 && net.lost === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(net.injected['hang-after']).toBe(1);
    expect(await server.prisma.space.count({ where: { tenantId: 'killed' } })).toBe(4); // first batch committed
    const sending = (await first.client.queue.open()).filter((op) => op.status === 'sending');
    expect(sending).toHaveLength(4);

    // Relaunch: a new client object over the same file (the old one is simply dropped).
    const relaunched = device('killed', 'alice', { dbDir: first.dbDir });
    expect(await relaunched.client.queueSize()).toBe(7);
    await relaunched.client.spaces.update(space.id, {
      description: 'after relaunch',
    });
    await relaunched.client.syncAll();
    const b = device('killed', 'bob');
    await b.client.syncAll();

    const final = await expectSpacesConverged('killed', [relaunched.client, b.client]);
    expect(final).toHaveLength(7);
    expect(final.every((r) => r[4] === (r[0] === space.id ? 2 : 1))).toBe(true);
    expect((await server.prisma.space.findFirst({ where: { clientId: space.id } })).description).toBe('after relaunch');
  });

  it('7. several devices of one user edit the same record: all converge on the server state', async () => {
    const [a, b, c] = [device('multi', 'alice'), device('multi', 'alice'), device('multi', 'alice')];
    const s = await a.client.spaces.create({
      name: 'shared',
      ownerId: 'alice',
    });
    const list = await a.client.checklists.create({ title: 'shared list' });
    const item = await a.client.checklistItems.create({
      label: 'eggs',
      checklistId: list.id,
    });
    await a.client.syncAll();
    await b.client.syncAll();
    await c.client.syncAll();

    // Three devices change the same Space and the same ChecklistItem, offline, one after another.
    await a.client.spaces.update(s.id, { name: 'shared: A' });
    await a.client.checklistItems.update(item.id, { label: 'brown eggs' });
    await new Promise((r) => setTimeout(r, 5));
    await b.client.spaces.update(s.id, { description: 'from B' });
    await b.client.checklistItems.update(item.id, { done: true });
    await new Promise((r) => setTimeout(r, 5));
    await c.client.spaces.update(s.id, { name: 'shared: C' });
    await c.client.checklistItems.update(item.id, { position: 3 });

    await c.client.syncAll();
    await a.client.syncAll();
    await b.client.syncAll();
    for (const d of [a, b, c]) await d.client.syncAll();

    const row = await server.prisma.space.findFirst({
      where: { clientId: s.id },
    });
    // C's edit is the newest: it wins over A's (older) and over B's (older, timestamp rule).
    expect(row.name).toBe('shared: C');
    await expectSpacesConverged('multi', [a.client, b.client, c.client]);
    const itemRow = await server.prisma.checklistItem.findFirst({
      where: { clientId: item.id },
    });
    expect(itemRow).toMatchObject({
      label: 'brown eggs',
      done: true,
      position: 3,
    });
    for (const d of [a, b, c]) {
      expect(await d.client.checklistItems.get(item.id)).toMatchObject({
        label: 'brown eggs',
        done: true,
        position: 3,
        version: itemRow.version,
      });
      expect(await d.client.queueSize()).toBe(0);
    }
  });

  it('8. two tenants: no cross-tenant leak on pull, push or the online path', async () => {
    const one = device('tenant-one', 'ann');
    const two = device('tenant-two', 'tom');
    const s1 = await one.client.spaces.create({
      name: 'one: secret',
      ownerId: 'ann',
    });
    await one.client.checklists.create({ title: 'one: list', spaceId: s1.id });
    const s2 = await two.client.spaces.create({
      name: 'two: own',
      ownerId: 'tom',
    });
    await one.client.syncAll();
    await two.client.syncAll();
    await one.client.syncAll();

    const s1Row = await server.prisma.space.findFirst({
      where: { clientId: s1.id },
    });
    expect(s1Row.tenantId).toBe('tenant-one');
    // Tenant two pushes an update and a delete aimed at tenant one's record: per-item errors, nothing written.
    const push = await gql(
      'mutation($items:[JSON!]!){ syncPush(entity: "Space", items: $items) { success errorCode } }',
      {
        items: [
          { id: s1Row.id, version: 1, name: 'hijacked' },
          { id: s1Row.id, version: 1, deletedAt: new Date().toISOString() },
        ],
      },
      'dev:tenant-two:tom',
    );
    expect(push.data.syncPush.map((r: any) => r.success)).toEqual([false, false]);
    expect(await server.prisma.space.findUnique({ where: { id: s1Row.id } })).toMatchObject({
      name: 'one: secret',
      version: 1,
      deletedAt: null,
    });
    // The same clientId in another tenant is another record.
    const reuse = await gql(
      'mutation($items:[JSON!]!){ syncPush(entity: "Space", items: $items) { success id } }',
      {
        items: [{ clientId: s1.id, name: 'two: same clientId', ownerId: 'tom' }],
      },
      'dev:tenant-two:tom',
    );
    expect(reuse.data.syncPush[0].success).toBe(true);
    expect(reuse.data.syncPush[0].id).not.toBe(s1Row.id);
    await two.client.syncAll();

    expect(await serverSpaces('tenant-one')).toEqual([[s1.id, s1Row.id, 'one: secret', null, 1]]);
    await expectSpacesConverged('tenant-one', [one.client]);
    await expectSpacesConverged('tenant-two', [two.client]);
    expect((await two.client.spaces.list()).map((s) => s.name).sort()).toEqual(['two: own', 'two: same clientId']);
    expect(await two.client.checklists.list()).toEqual([]);
    expect((await one.client.spaces.list()).map((s) => s.name)).toEqual(['one: secret']);
    expect(await one.client.spaces.get(s2.id)).toBeNull();
    expect(
      await server.prisma.checklist.count({
        where: { tenantId: 'tenant-two' },
      }),
    ).toBe(0);
  });

  it('9. force sync from server replaces local data (waiting changes kept unless discardPending); force push local makes the device copy win', async () => {
    const a = device('force', 'alice');
    const b = device('force', 'alice');
    const s = await a.client.spaces.create({
      name: 'force: base',
      ownerId: 'alice',
    });
    const other = await a.client.spaces.create({
      name: 'force: other',
      ownerId: 'alice',
    });
    await a.client.syncAll();
    await b.client.syncAll();

    // Force from server. The server copy of `third` changes behind the cursor's back (same updatedAt):
    // an incremental pull cannot see it, a full reload does.
    const third = await a.client.spaces.create({ name: 'force: third', ownerId: 'alice' });
    await a.client.syncAll();
    const thirdRow = await server.prisma.space.findFirst({ where: { clientId: third.id } });
    await server.prisma.space.update({
      where: { id: thirdRow.id },
      data: { description: 'patched on the server', updatedAt: thirdRow.updatedAt },
    });
    await b.client.spaces.update(s.id, { description: 'from B' });
    await b.client.spaces.delete(other.id);
    await b.client.syncAll();
    await a.client.spaces.update(s.id, { name: 'force: A local edit' });
    const localOnly = await a.client.spaces.create({ name: 'force: local only', ownerId: 'alice' });
    expect(await a.client.queueSize()).toBe(2);
    await a.client.syncPull();
    expect((await a.client.spaces.get(third.id))?.description).toBeNull();

    // Default: local data replaced by the server's, waiting changes kept.
    await a.client.forceSyncFromServer();
    expect((await a.client.spaces.get(third.id))?.description).toBe('patched on the server');
    expect(await a.client.spaces.get(other.id)).toBeNull();
    expect(await a.client.queueSize()).toBe(2);
    expect((await a.client.spaces.get(s.id))?.name).toBe('force: A local edit');
    expect(await a.client.spaces.get(localOnly.id)).not.toBeNull();

    // With the explicit flag, waiting changes are discarded too.
    await a.client.forceSyncFromServer(undefined, { discardPending: true });
    expect(await a.client.queueSize()).toBe(0);
    expect(await a.client.spaces.get(localOnly.id)).toBeNull();
    expect(await a.client.spaces.get(s.id)).toMatchObject({
      name: 'force: base',
      description: 'from B',
      version: 2,
    });
    await expectSpacesConverged('force', [a.client, b.client]);
    expect(await a.client.spaces.get(other.id)).toBeNull();

    // Force push local: A's copy overwrites a newer server copy.
    await a.client.spaces.update(s.id, { name: 'force: A wins' });
    await new Promise((r) => setTimeout(r, 5));
    await b.client.spaces.update(s.id, { name: 'force: B (newer)' });
    await b.client.syncAll();
    await a.client.forcePushLocal(['Space']);
    await b.client.syncAll();
    expect((await server.prisma.space.findFirst({ where: { clientId: s.id } })).name).toBe('force: A wins');
    await expectSpacesConverged('force', [a.client, b.client]);
  });

  it('10. online direct create returns the server id at once and the record is present locally', async () => {
    const a = device('online', 'alice');
    const s = await a.client.spaces.createOnline({
      name: 'online: HQ',
      ownerId: 'alice',
    });
    expect(s.serverId).toEqual(expect.any(String));
    const row = await server.prisma.space.findUnique({
      where: { id: s.serverId },
    });
    expect(row).toMatchObject({
      tenantId: 'online',
      name: 'online: HQ',
      clientId: s.id,
      version: 1,
    });
    expect(await a.client.spaces.get(s.id)).toMatchObject({
      serverId: row.id,
      name: 'online: HQ',
      version: 1,
    });
    expect(await a.client.queueSize()).toBe(0);
    const g = await a.client.groups.createOnline({
      name: 'online: group',
      spaceId: s.id,
    });
    expect((await server.prisma.group.findUnique({ where: { id: g.serverId } })).spaceId).toBe(row.id);

    await a.client.syncAll();
    const b = device('online', 'alice');
    await b.client.syncAll();
    await expectSpacesConverged('online', [a.client, b.client]);
    expect(await b.client.groups.get(g.id)).toMatchObject({
      serverId: g.serverId,
      spaceId: s.id,
    });
  });

  it('11. offline creates get UUID v7 ids: the format, increasing in creation order, kept as clientId on the server', async () => {
    const a = device('uuid', 'alice');
    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await a.client.spaces.create({ name: `uuid ${i}`, ownerId: 'alice' })).id);
    ids.push(
      ...(
        await a.client.spaces.createMany(
          Array.from({ length: 30 }, () => ({
            name: 'uuid bulk',
            ownerId: 'alice',
          })),
        )
      ).map((s) => s.id),
    );
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect([...ids].sort()).toEqual(ids); // monotonic: creation order is id order
    expect(new Set(ids).size).toBe(ids.length);

    await a.client.syncAll();
    const rows: any[] = await server.prisma.space.findMany({
      where: { tenantId: 'uuid' },
    });
    expect(rows.map((r) => r.clientId).sort()).toEqual(ids);
    await expectSpacesConverged('uuid', [a.client]);
  });

  it('12. media upload: a photo added offline is uploaded when the network returns, the record points at it, another device sees the URL and fetches the same bytes', async () => {
    const photoDir = mkdtempSync(path.join(tmpdir(), 'trackhub-matrix-photos-'));
    dirs.push(photoDir);
    const bytes = Buffer.alloc(150_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes); // a JPEG start
    const photo = path.join(photoDir, 'porch.jpg');
    writeFileSync(photo, bytes);

    const a = device('media', 'alice', { uploads: true });
    a.net.online = false; // airplane mode
    const space = await a.client.spaces.create({ name: 'Porch', ownerId: 'alice' });
    await a.client.spaces.attachCoverUrl(space.id, photo, { contentType: 'image/jpeg' });
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBeNull();
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 1, uploadsDone: 0, queueSize: 1 });

    a.net.online = true; // the network returns: the worker uploads, then syncs
    const worker = new SyncWorker(a.client, { debounceMs: 5, intervalMs: 0 });
    await worker.syncNow();
    await worker.stop();
    const row = await server.prisma.space.findFirst({ where: { tenantId: 'media', clientId: space.id } });
    expect(row.coverUrl).toMatch(new RegExp(`^${uploadsUrl(server.url)}/[0-9a-f]{64}$`));
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBe(row.coverUrl);
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, queueSize: 0 });

    const b = device('media', 'bob');
    await b.client.syncAll();
    expect((await b.client.spaces.get(space.id))?.coverUrl).toBe(row.coverUrl);
    const file = await fetch(row.coverUrl, { headers: { authorization: 'Bearer dev:media:bob' } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    await expectSpacesConverged('media', [a.client, b.client]);
  });
});
