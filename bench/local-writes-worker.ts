/**
 * Bulk local writes on one device, in its own process:
 *   node --import @swc-node/register/esm-register bench/local-writes-worker.ts <N> [ROUNDS]
 *
 * Side by side, each on a fresh file SQLite device database (generated example schema), in
 * ROUNDS paired rounds (argument 2, default 3; medians reported):
 * - WatermelonDB's own `database.batch` of N Space creates, then of N updates of them
 *   (the records alone, no queue);
 * - the generated client's `spaces.createMany` of the same N records (each record and
 *   its queued insert, one batch), then `spaces.updateMany` of the same N changes;
 * - single calls, to print their per-change cost: `create` and `update`, N/10 each;
 * - a device that already holds data: `createMany` of N/10 records into a device holding
 *   5N records (and their 5N queued inserts), against `database.batch` of N/10 into a
 *   database holding 5N records; the median of 3 batches each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Model } from '@nozbe/watermelondb';
import { uuidv7 } from 'uuidv7';

import { createClient, createDatabase, type OfflineFirstClient } from '../generated-example/client/generated/index.js';
import { result } from './lib.js';
import { stockSqliteAdapter } from './stock-adapter.js';

const N = Number(process.argv[2] ?? 10_000);
const SINGLES = Math.max(100, Math.round(N / 10));
const ROUNDS = Number(process.argv[3] ?? 3);
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-local-'));
  dirs.push(d);
  return d;
};
const input = (i: number) => ({ name: `Space ${i}`, ownerId: 'u1', position: i, description: i % 3 ? null : `d${i}` });
const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
let n = 0;
const device = (): OfflineFirstClient =>
  // Never contacted: nothing here syncs.
  createClient({ tenantId: `local${++n}`, url: 'http://127.0.0.1:9/graphql', token: 'dev:bench:u1', dbDir: tmp() });

/** WatermelonDB's own create of Space `i`: the same record the client writes, with a UUID v7 id as the device mints them. */
const prepareSpace = (spaces: ReturnType<ReturnType<typeof createDatabase>['get']>, i: number): Model =>
  spaces.prepareCreate((r) => {
    const v = input(i);
    r._raw.id = uuidv7();
    r._setRaw('name', v.name);
    r._setRaw('owner_id', v.ownerId);
    r._setRaw('position', v.position);
    r._setRaw('description', v.description);
    r._setRaw('version', 0);
  });

// ---------------------------------------------------------------- paired rounds
// Each round measures both sides on fresh databases; the medians of ROUNDS rounds are
// reported (a single round moved the ratio by up to 0.4 between runs).
async function watermelonRound(): Promise<{ createMs: number; updateMs: number }> {
  const db = createDatabase({ tenantId: `watermelon${++n}`, dbDir: tmp(), adapter: stockSqliteAdapter });
  const spaces = db.get('spaces');
  await spaces.query().fetchCount(); // opens the file, creates the schema
  let wmRecords: Model[] = [];
  const createMs = await time(() =>
    db.write(async () => {
      wmRecords = Array.from({ length: N }, (_, i) => prepareSpace(spaces, i));
      await db.batch(wmRecords);
    }),
  );
  const updateMs = await time(() =>
    db.write(async () => {
      await db.batch(wmRecords.map((r, i) => r.prepareUpdate((m) => {
        m._setRaw('name', `Space ${i} (edited)`);
        m._setRaw('position', -i);
      })));
    }),
  );
  return { createMs, updateMs };
}

async function clientRound(): Promise<{ createManyMs: number; updateManyMs: number }> {
  const a = device();
  await a.spaces.count(); // opens the file, creates the schema
  let ids: string[] = [];
  const createManyMs = await time(async () => {
    ids = (await a.spaces.createMany(Array.from({ length: N }, (_, i) => input(i)))).map((r) => r.id);
  });
  const updateManyMs = await time(() => a.spaces.updateMany(ids.map((id, i) => ({ id, patch: { name: `Space ${i} (edited)`, position: -i } }))));
  const queued = await a.queueSize();
  if (queued !== N) throw new Error(`expected ${N} queued inserts, found ${queued}`);
  await a.close();
  return { createManyMs, updateManyMs };
}

const rounds: Array<{ watermelon: { createMs: number; updateMs: number }; createManyMs: number; updateManyMs: number }> = [];
// A warm-up round first (not counted: the first round ran WatermelonDB's batch 1.6x slower,
// before the JIT had compiled its code); then the order alternates.
await watermelonRound();
await clientRound();
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    const watermelon = await watermelonRound();
    rounds.push({ watermelon, ...(await clientRound()) });
  } else {
    const ours = await clientRound();
    rounds.push({ watermelon: await watermelonRound(), ...ours });
  }
}
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
const wmCreateMs = median(rounds.map((r) => r.watermelon.createMs));
const wmUpdateMs = median(rounds.map((r) => r.watermelon.updateMs));
const createManyMs = median(rounds.map((r) => r.createManyMs));
const updateManyMs = median(rounds.map((r) => r.updateManyMs));

// ---------------------------------------------------------------- single calls
const b = device();
const singleIds: string[] = [];
const createMs = await time(async () => {
  for (let i = 0; i < SINGLES; i++) singleIds.push((await b.spaces.create(input(i))).id);
});
const updateMs = await time(async () => {
  for (let i = 0; i < SINGLES; i++) await b.spaces.update(singleIds[i]!, { name: `Space ${i} (edited)`, position: -i });
});

await b.close();

// ---------------------------------------------------------------- a device holding data
// What a large batch costs once the tables are no longer empty (index maintenance against
// rebuilds): 5N rows first, untimed, then 3 timed batches of N/10 on each side.
const LOADED = 5 * N;
const SMALL = Math.max(100, Math.round(N / 10));
const median3 = (values: number[]) => [...values].sort((x, y) => x - y)[1]!;
let loadedWatermelonMs: number;
{
  const db = createDatabase({ tenantId: `watermelon-loaded${++n}`, dbDir: tmp(), adapter: stockSqliteAdapter });
  const spaces = db.get('spaces');
  const batchOf = (count: number, from: number) =>
    db.write(async () => {
      await db.batch(Array.from({ length: count }, (_, i) => prepareSpace(spaces, from + i)));
    });
  for (let done = 0; done < LOADED; done += N) await batchOf(N, done);
  const times: number[] = [];
  for (let r = 0; r < 3; r++) times.push(await time(() => batchOf(SMALL, LOADED + r * SMALL)));
  loadedWatermelonMs = median3(times);
}
let loadedCreateManyMs: number;
{
  const c = device();
  for (let done = 0; done < LOADED; done += N) await c.spaces.createMany(Array.from({ length: N }, (_, i) => input(done + i)));
  const times: number[] = [];
  for (let r = 0; r < 3; r++) times.push(await time(() => c.spaces.createMany(Array.from({ length: SMALL }, (_, i) => input(LOADED + r * SMALL + i)))));
  loadedCreateManyMs = median3(times);
  await c.close();
}

for (const d of dirs) rmSync(d, { recursive: true, force: true });
result({
  n: N,
  rounds,
  singles: SINGLES,
  watermelon: { createMs: wmCreateMs, updateMs: wmUpdateMs },
  createManyMs,
  updateManyMs,
  createRatio: createManyMs / wmCreateMs,
  updateRatio: updateManyMs / wmUpdateMs,
  single: { createMs, updateMs, createPerChangeMs: createMs / SINGLES, updatePerChangeMs: updateMs / SINGLES },
  loaded: { rows: LOADED, batch: SMALL, watermelonMs: loadedWatermelonMs, createManyMs: loadedCreateManyMs },
});
