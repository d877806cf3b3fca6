/**
 * Simulated devices against a running server, in their own process:
 *   node --import @swc-node/register/esm-register bench/load-worker.ts <graphqlUrl> <devices> <seconds>
 *
 * Each device (generated example client, its own in-memory SQLite database, so that the
 * simulator's disk syncs do not stall the event loop all devices share and count as server
 * latency; devices share 5 tenants, BENCH_LOAD_TENANTS=N for N: with one tenant per device
 * no two devices wait on one sync clock row)
 * loops until the time is up: 3 local creates + 1 update, then syncAll() (one push
 * request per entity with changes, one request for every entity's first pull page, then
 * one per further page). Every HTTP
 * request's latency (to the response) is recorded; errors = failed requests, GraphQL
 * errors, failed/conflicting items and failed cycles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createClient } from '../generated-example/client/generated/index.js';
import { percentile, result } from './lib.js';

const [url, devArg, secArg] = process.argv.slice(2) as [string, string, string];
const DEVICES = Number(devArg);
const SECONDS = Number(secArg);
const TENANTS = Number(process.env.BENCH_LOAD_TENANTS ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-load-'));

const latencies: number[] = [];
const pushLat: number[] = [];
const pullLat: number[] = [];
const cycleLat: number[] = [];
let requestErrors = 0;
let cycleErrors = 0;
let itemErrors = 0;
let cycles = 0;
let itemsPushed = 0;
let itemsPulled = 0;
const errorSamples: string[] = [];

const timedFetch = (async (input: string, init: RequestInit) => {
  const t0 = performance.now();
  const isPush = String(init.body).includes('syncPush');
  try {
    const res = await fetch(input, init);
    const text = await res.text();
    const ms = performance.now() - t0;
    if (measuring) {
      latencies.push(ms);
      (isPush ? pushLat : pullLat).push(ms);
      if (!res.ok || text.startsWith('{"errors"')) {
        requestErrors++;
        if (errorSamples.length < 3) errorSamples.push(text.slice(0, 200));
      }
    }
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  } catch (error) {
    if (measuring) requestErrors++;
    throw error;
  }
}) as typeof fetch;

let measuring = false;
const clients = Array.from({ length: DEVICES }, (_, d) => {
  const tenantId = `load${d % TENANTS}`;
  return createClient({ tenantId: `${tenantId}`, url, token: `dev:${tenantId}:u${d}`, dbDir: ':memory:', fetch: timedFetch });
});

// Warm up: one cycle per device, not measured.
await Promise.all(clients.map((c) => c.syncAll().catch(() => undefined)));
measuring = true;
const start = performance.now();
const deadline = start + SECONDS * 1000;

async function device(d: number): Promise<void> {
  const c = clients[d]!;
  let n = 0;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      const made = await c.spaces.createMany([0, 1, 2].map((k) => ({ name: `d${d} s${n}-${k}`, ownerId: `u${d}` })));
      await c.spaces.update(made[0]!.id, { description: `edited ${n}` });
      const report = await c.syncAll();
      for (const e of report.entities) {
        itemsPushed += e.pushed;
        itemsPulled += e.pulled;
        itemErrors += e.failed + e.conflicts;
      }
      cycles++;
    } catch (error) {
      cycleErrors++;
      if (errorSamples.length < 3) errorSamples.push(String((error as Error).message).slice(0, 200));
    }
    cycleLat.push(performance.now() - t0);
    n++;
  }
}
await Promise.all(clients.map((_, d) => device(d)));
const elapsed = (performance.now() - start) / 1000;
measuring = false;
for (const c of clients) await c.close().catch(() => undefined);
rmSync(dir, { recursive: true, force: true });

const s = (a: number[]) => a.sort((x, y) => x - y);
s(latencies);
s(pushLat);
s(pullLat);
s(cycleLat);
result({
  devices: DEVICES,
  seconds: elapsed,
  requests: latencies.length,
  requestsPerSec: latencies.length / elapsed,
  cycles,
  cyclesPerSec: cycles / elapsed,
  itemsPushed,
  itemsPulled,
  p50: percentile(latencies, 50),
  p99: percentile(latencies, 99),
  pushP50: percentile(pushLat, 50),
  pushP99: percentile(pushLat, 99),
  pullP50: percentile(pullLat, 50),
  pullP99: percentile(pullLat, 99),
  cycleP50: percentile(cycleLat, 50),
  cycleP99: percentile(cycleLat, 99),
  requestErrors,
  cycleErrors,
  itemErrors,
  errors: requestErrors + cycleErrors + itemErrors,
  errorSamples,
});
process.exit(0);
