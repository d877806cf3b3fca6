/**
 * Push of N offline changes from one device, in its own process:
 *   node --import @swc-node/register/esm-register bench/push-worker.ts <sqlite|postgresql> <N> [pgUrl] [floorPgUrl]
 *
 * The device (generated example client, file SQLite) first holds 40% N Spaces already
 * synced (untimed). Offline it then makes N changes: 60% creates, 30% updates of synced
 * Spaces, 10% deletes of synced Spaces. Timed: client.syncPush() until the queue is empty
 * (default push batch size).
 *
 * Floor, same process, same run: the same rows written straight into a fresh server
 * database with Prisma (createMany for the creates, updateMany for updates and
 * soft-deletes, in chunks) plus the device's own local batch write of the N rows
 * (one WatermelonDB batch into a fresh device database).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { uuidv7 } from 'uuidv7';

import { createClient, createDatabase } from '../generated-example/client/generated/index.js';
import { result } from './lib.js';
import { stockSqliteAdapter } from './stock-adapter.js';
import { connectPrisma, spaceRow, startServer, type Db } from './server.js';

const [provider, nArg, pgUrl, floorPgUrl] = process.argv.slice(2) as [string, string, string?, string?];
const N = Number(nArg);
const CREATES = Math.round(N * 0.6);
const UPDATES = Math.round(N * 0.3);
const DELETES = N - CREATES - UPDATES;
const BASE = UPDATES + DELETES;
const tenant = 'bench';
const db: Db = provider === 'postgresql' ? { provider: 'postgresql', url: pgUrl! } : { provider: 'sqlite' };
const floorDb: Db = provider === 'postgresql' ? { provider: 'postgresql', url: floorPgUrl! } : { provider: 'sqlite' };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-push-'));
  dirs.push(d);
  return d;
};
const input = (i: number) => ({ name: `Space ${i}`, ownerId: 'u1', position: i, description: i % 3 ? null : `d${i}` });

// ---------------------------------------------------------------- the product
const server = await startServer(db);
let httpMs = 0;
let httpRequests = 0;
const timedFetch = (async (u: string, init: RequestInit) => {
  const t = performance.now();
  try {
    const res = await fetch(u, init);
    const text = await res.text();
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  } finally {
    httpMs += performance.now() - t;
    httpRequests++;
  }
}) as typeof fetch;
const client = createClient({ tenantId: tenant, url: server.url, token: `dev:${tenant}:u1`, dbDir: tmp(), fetch: timedFetch });
const CHUNK = 1000;
const base: string[] = [];
for (let i = 0; i < BASE; i += CHUNK) {
  const made = await client.spaces.createMany(Array.from({ length: Math.min(CHUNK, BASE - i) }, (_, k) => input(i + k)));
  base.push(...made.map((r) => r.id));
}
await client.syncPush();
if ((await client.queueSize()) !== 0) throw new Error('base push left a queue');

const tLocal = performance.now();
for (let i = 0; i < CREATES; i += CHUNK) {
  await client.spaces.createMany(Array.from({ length: Math.min(CHUNK, CREATES - i) }, (_, k) => input(BASE + i + k)));
}
for (let i = 0; i < UPDATES; i++) await client.spaces.update(base[i]!, { name: `Space ${i} (edited)`, position: -i });
for (let i = 0; i < DELETES; i++) await client.spaces.delete(base[UPDATES + i]!);
const localMs = performance.now() - tLocal;
const queued = await client.queueSize();

const t0 = performance.now();
httpMs = 0;
httpRequests = 0;
// The first request after a long idle period can hit a keep-alive connection the server has
// just closed (ECONNRESET): the sync then fails and the queue stays; like an app, sync again.
const pushErrors: string[] = [];
let report: any;
for (let attempt = 0; ; attempt++) {
  try {
    report = await client.syncPush();
    break;
  } catch (error) {
    const e = error as Error & { cause?: any };
    pushErrors.push(`${e.message}${e.cause?.cause?.code ? ` (${e.cause.cause.code})` : ''}`);
    if (attempt >= 2) throw error;
  }
}
const pushMs = performance.now() - t0;
const pushHttpMs = httpMs;
const pushRequests = httpRequests;
const left = await client.queueSize();
const serverRows = await server.prisma.space.count({ where: { tenantId: tenant, deletedAt: null } });
const serverDeleted = await server.prisma.space.count({ where: { tenantId: tenant, NOT: { deletedAt: null } } });
const failed = report.entities.reduce((a: number, e: any) => a + e.failed + e.conflicts, 0);
await client.close();
await server.stop();

// ---------------------------------------------------------------- the floor
const floor = await connectPrisma(floorDb);
const prisma = floor.prisma;
const baseIds: string[] = [];
{
  const rows = Array.from({ length: BASE }, (_, i) => spaceRow(tenant, i));
  for (const r of rows) baseIds.push(r.id as string);
  for (let i = 0; i < rows.length; i += 5000) await prisma.space.createMany({ data: rows.slice(i, i + 5000) });
}
const f0 = performance.now();
{
  const rows = Array.from({ length: CREATES }, (_, i) => spaceRow(tenant, BASE + i, randomUUID()));
  for (let i = 0; i < rows.length; i += 5000) await prisma.space.createMany({ data: rows.slice(i, i + 5000) });
  const upd = baseIds.slice(0, UPDATES);
  for (let i = 0; i < upd.length; i += 1000) {
    await prisma.space.updateMany({ where: { id: { in: upd.slice(i, i + 1000) } }, data: { name: 'edited', version: { increment: 1 } } });
  }
  const del = baseIds.slice(UPDATES, UPDATES + DELETES);
  for (let i = 0; i < del.length; i += 1000) {
    await prisma.space.updateMany({ where: { id: { in: del.slice(i, i + 1000) } }, data: { deletedAt: new Date(), version: { increment: 1 } } });
  }
}
const floorServerMs = performance.now() - f0;
await floor.disconnect();

const device = createDatabase({ tenantId: tenant, dbDir: tmp(), adapter: stockSqliteAdapter });
const spaces = device.get('spaces') as any;
const l0 = performance.now();
await device.write(async () => {
  const now = Date.now();
  const prepared = Array.from({ length: N }, (_, i) =>
    spaces.prepareCreateFromDirtyRaw({
      id: uuidv7(),
      name: `Space ${i}`,
      description: null,
      kind: 'TEAM',
      color: null,
      position: i,
      owner_id: 'u1',
      cover_url: null,
      server_id: randomUUID(),
      client_id: null,
      version: 1,
      server_updated_at: now,
      deleted_at: null,
    }),
  );
  await device.batch(prepared);
});
const floorLocalMs = performance.now() - l0;
for (const d of dirs) rmSync(d, { recursive: true, force: true });

result({
  provider,
  n: N,
  mix: { creates: CREATES, updates: UPDATES, deletes: DELETES },
  queued,
  left,
  pushErrors,
  failed,
  serverRows,
  serverDeleted,
  localEnqueueMs: localMs,
  pushMs,
  pushHttpMs,
  pushRequests,
  floorServerMs,
  floorLocalMs,
  floorMs: floorServerMs + floorLocalMs,
  ratio: pushMs / (floorServerMs + floorLocalMs),
});
process.exit(0);
