/**
 * trackhub-gen benchmarks (issue 7).
 *
 *   npm run bench                 full mode
 *   npm run bench -- --quick      quick mode (also BENCH_QUICK=1 or npm run bench:quick), < 5 min
 *   npm run bench -- --only gen,local,push,pull,partial,load,replicas
 *
 * Every measured task runs in its own child process (peak RSS per task); ratios are
 * measured side by side in the same run. Prints a table and writes
 * bench-results/latest.json (plus a dated copy).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { syntheticSchema } from './schema-gen.js';
import { startRoundRobinProxy } from './proxy.js';
import { REPO, JS, buildCompiledBench, dropBenchDatabase, freshBenchDatabase, pgUnavailable, runWorker, startServerProcess, type WorkerResult } from './lib.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const QUICK = values.quick || ['1', 'true'].includes((process.env.BENCH_QUICK ?? '').toLowerCase());
const ONLY = new Set((values.only ?? 'gen,local,push,pull,partial,load,replicas').split(','));
const cfg = QUICK
  ? { models: [10, 100, 400], local: 2_000, push: 2_000, pull: 20_000, partial: { projects: 100, tasks: 1_000 }, devices: 10, seconds: 8 }
  : { models: [10, 100, 400], local: 10_000, push: 10_000, pull: 100_000, partial: { projects: 100, tasks: 10_000 }, devices: 50, seconds: 30 };

interface Row {
  section: string;
  name: string;
  value: string;
  rssMb?: number | undefined;
  ratio?: string | undefined;
  target?: string | undefined;
  status?: 'met' | 'MISSED' | 'skipped' | 'error' | '' | undefined;
}
const rows: Row[] = [];
const json: Record<string, any> = {
  date: new Date().toISOString(),
  mode: QUICK ? 'quick' : 'full',
  config: cfg,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, loadavgAtStart: os.loadavg() },
  results: {} as Record<string, any>,
};
const started = performance.now();
const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const log = (s: string) => console.log(s);
function add(r: Row): void {
  rows.push(r);
  log(`  ${r.section.padEnd(6)} ${r.name.padEnd(44)} ${r.value.padStart(12)}${r.rssMb !== undefined ? `  ${r.rssMb} MB` : ''}${r.ratio ? `  ${r.ratio}` : ''}${r.status ? `  [${r.status}]` : ''}`);
}
const skip = (section: string, name: string, reason: string) => add({ section, name, value: '-', status: 'skipped', target: `skipped: ${reason}` });
const check = (ok: boolean): Row['status'] => (ok ? 'met' : 'MISSED');

const pgReason = ONLY.has('push') || ONLY.has('load') || ONLY.has('replicas') ? await pgUnavailable() : null;
if (pgReason) log(`!! PostgreSQL rows will be skipped: ${pgReason}`);
log(`trackhub-gen bench (${QUICK ? 'quick' : 'full'} mode), ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
log('building the package and compiling the bench: every worker runs compiled JavaScript on dist/, as users run it');
buildCompiledBench();

// ---------------------------------------------------------------- 1. generator
if (ONLY.has('gen')) {
  const reps = QUICK ? 1 : 3;
  log(`\n1. generator: trackhub generate / check vs the real \`prisma generate\` CLI on the same schema (whole processes, wall time incl. node start-up, ${reps} paired run${reps > 1 ? 's' : ''}, medians)`);
  json.results.generator = [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const models of cfg.models) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `trackhub-bench-gen${models}-`));
    const schema = path.join(dir, 'schema.prisma');
    writeFileSync(schema, syntheticSchema(models));
    const runs: Record<'generate' | 'check' | 'generateWarm' | 'prisma', WorkerResult[]> = { generate: [], check: [], generateWarm: [], prisma: [] };
    for (let rep = 0; rep < reps; rep++) {
      // A fresh format cache and output folder per run: the first generate is cold;
      // check and a second generate (into a fresh folder) run after it (warm).
      const cli = (cmd: string, out: string) =>
        runWorker(['--import', './bench/rss-hook.mjs'], path.join(REPO, 'bin/trackhub-gen.mjs'), [cmd, '--schema', schema, '--out', path.join(dir, out)], {
          cwd: REPO,
          timeoutMs: 300_000,
          env: { TRACKHUB_GEN_CACHE_DIR: path.join(dir, `format-cache-${rep}`) },
        });
      runs.generate.push(await cli('generate', `out-${rep}`));
      // The real Prisma CLI writes the client next to the schema (output = "./client"). It only
      // checks that a schema engine exists before generate: a stand-in executable lets it run offline.
      runs.prisma.push(
        await runWorker(['--import', pathToFileURL(path.join(REPO, 'bench/rss-hook.mjs')).href], path.join(REPO, 'node_modules/prisma/build/index.js'), ['generate', '--schema', schema], {
          cwd: dir,
          timeoutMs: 600_000,
          env: { PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
        }),
      );
      runs.check.push(await cli('check', `out-${rep}`));
      runs.generateWarm.push(await cli('generate', `out-warm-${rep}`));
    }
    rmSync(dir, { recursive: true, force: true });
    const ok = (rs: WorkerResult[]) => rs.every((r) => r.ok);
    const wall = (rs: WorkerResult[]) => median(rs.map((r) => r.wallMs));
    const rss = (rs: WorkerResult[]) => Math.max(...rs.map((r) => r.value?.maxRssMb ?? 0));
    const entry: Record<string, unknown> = { models, reps, runs };
    json.results.generator.push(entry);
    for (const [name, rs] of Object.entries(runs)) {
      const failed = rs.find((r) => !r.ok);
      if (failed) add({ section: 'gen', name: `${models} models: ${name}`, value: 'error', status: 'error', target: failed.error });
    }
    if (!ok(runs.prisma)) continue;
    const pr = wall(runs.prisma);
    const targeted = models >= 100;
    const row = (name: string, rs: WorkerResult[], limit: number, key: string) => {
      if (!ok(rs)) return;
      const ratio = wall(rs) / pr;
      entry[key] = ratio;
      add({
        section: 'gen',
        name: `${models} models: ${name}`,
        value: fmtMs(wall(rs)),
        rssMb: rss(rs),
        ratio: `${ratio.toFixed(2)}x prisma CLI`,
        target: targeted ? `<= ${limit}x prisma generate CLI` : undefined,
        status: targeted ? check(ratio <= limit) : '',
      });
    };
    row('trackhub generate (cold)', runs.generate, 0.5, 'ratioCold');
    row('trackhub check (warm)', runs.check, 0.3, 'ratioCheck');
    row('trackhub generate (warm)', runs.generateWarm, 0.3, 'ratioWarm');
    add({ section: 'gen', name: `${models} models: prisma generate (CLI)`, value: fmtMs(pr), rssMb: rss(runs.prisma) });
  }
}

// ---------------------------------------------------------------- local writes
if (ONLY.has('local')) {
  log(`\nlocal writes: ${cfg.local} changes on one device (file SQLite) through the batch API vs WatermelonDB's own database.batch of the same records; single calls per change`);
  const r = await runWorker(JS, 'local-writes-worker.ts', [String(cfg.local)], { timeoutMs: 600_000 });
  json.results.localWrites = r;
  if (!r.ok) add({ section: 'local', name: `${cfg.local} local changes`, value: 'error', status: 'error', target: r.error });
  else {
    const v = r.value;
    // Medians of paired rounds; the range of the rounds' own ratios beside them.
    const spread = (ratios: number[]) => `rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x`;
    const row = (name: string, ms: number, base: number, ratios: number[]) =>
      add({ section: 'local', name, value: fmtMs(ms), rssMb: v.maxRssMb, ratio: `${(ms / base).toFixed(2)}x database.batch (${fmtMs(base)}; ${spread(ratios)})`, target: '<= 1.5x database.batch', status: check(ms / base <= 1.5) });
    const rounds = v.rounds as Array<{ watermelon: { createMs: number; updateMs: number }; createManyMs: number; updateManyMs: number }>;
    row(`createMany ${v.n} (record + queued insert each), median of ${rounds.length}`, v.createManyMs, v.watermelon.createMs, rounds.map((x) => x.createManyMs / x.watermelon.createMs));
    row(`updateMany ${v.n} (coalesced into the inserts), median of ${rounds.length}`, v.updateManyMs, v.watermelon.updateMs, rounds.map((x) => x.updateManyMs / x.watermelon.updateMs));
    add({ section: 'local', name: `single create (${v.singles} calls)`, value: `${v.single.createPerChangeMs.toFixed(2)} ms each` });
    add({ section: 'local', name: `single update (${v.singles} calls)`, value: `${v.single.updatePerChangeMs.toFixed(2)} ms each` });
    const l = v.loaded;
    add({ section: 'local', name: `createMany ${l.batch} into a device holding ${l.rows} (and as many queued), median of 3`, value: fmtMs(l.createManyMs), ratio: `${(l.createManyMs / l.watermelonMs).toFixed(2)}x database.batch into ${l.rows} records (${fmtMs(l.watermelonMs)})` });
  }
}

// ---------------------------------------------------------------- 2. push
if (ONLY.has('push')) {
  log(`\n2. push: ${cfg.push} offline changes (60% creates, 30% updates, 10% deletes) from one device until the queue is empty`);
  json.results.push = {};
  for (const provider of ['sqlite', 'postgresql'] as const) {
    const label = provider === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    if (provider === 'postgresql' && pgReason) {
      skip('push', `${label}: push ${cfg.push}`, pgReason);
      json.results.push[provider] = { skipped: pgReason };
      continue;
    }
    const urls = provider === 'postgresql' ? [await freshBenchDatabase('push'), await freshBenchDatabase('push_floor')] : [];
    const r = await runWorker(JS, 'push-worker.ts', [provider, String(cfg.push), ...urls], { timeoutMs: 900_000 });
    for (const u of urls) await dropBenchDatabase(u).catch(() => undefined);
    json.results.push[provider] = r;
    if (!r.ok) {
      add({ section: 'push', name: `${label}: push ${cfg.push}`, value: 'error', status: 'error', target: r.error });
      log(`    ${r.error}`);
      continue;
    }
    const v = r.value;
    const okQueue = v.left === 0 && v.failed === 0;
    add({ section: 'push', name: `${label}: syncPush until queue empty`, value: fmtMs(v.pushMs), rssMb: v.maxRssMb, ratio: `${v.ratio.toFixed(1)}x floor`, target: '<= 2x floor', status: okQueue ? check(v.ratio <= 2) : 'error' });
    add({ section: 'push', name: `${label}:   of which HTTP (server) in ${v.pushRequests} requests`, value: fmtMs(v.pushHttpMs) });
    if (v.pushErrors?.length) add({ section: 'push', name: `${label}:   failed syncs retried (${v.pushErrors.length})`, value: v.pushErrors.map((e: string) => (/\((\w+)\)$/.exec(e)?.[1] ?? 'error')).join(','), status: 'MISSED' });
    add({ section: 'push', name: `${label}: floor (Prisma ${fmtMs(v.floorServerMs)} + device batch ${fmtMs(v.floorLocalMs)})`, value: fmtMs(v.floorMs) });
    add({ section: 'push', name: `${label}: (untimed) local enqueue of the changes`, value: fmtMs(v.localEnqueueMs) });
    if (!okQueue) log(`    queue left ${v.left}, failed items ${v.failed}`);
  }
}

// ---------------------------------------------------------------- 3. initial pull
if (ONLY.has('pull')) {
  log(`\n3. initial pull: ${cfg.pull} records (80% Space, 20% Group) into a fresh device, server on SQLite`);
  json.results.pull = {};
  let server;
  try {
    server = await startServerProcess(['sqlite', '--seed', String(cfg.pull), '--tenant', 'bench']);
  } catch (error) {
    add({ section: 'pull', name: 'server', value: 'error', status: 'error', target: String(error) });
  }
  if (server) {
    // Warm the server up (JIT, SQLite page cache) with one full pull, so neither measured run pays for it.
    json.results.pull.warmupMs = await warmPull(server.url, 'bench');
    // Paired runs in alternating order (one run of each moved the ratio by up to 0.3 between
    // runs): the run of median time of each side is reported, with the rounds' ratios.
    const pullRun = (mode: string) => runWorker(JS, 'pull-worker.ts', [mode, server.url, 'bench'], { timeoutMs: 900_000 });
    const ths: WorkerResult[] = [];
    const wms: WorkerResult[] = [];
    for (let round = 0; round < (QUICK ? 1 : 3); round++) {
      if (round % 2 === 0) ths.push(await pullRun('trackhub')), wms.push(await pullRun('watermelon'));
      else wms.push(await pullRun('watermelon')), ths.push(await pullRun('trackhub'));
    }
    const medianRun = (rs: WorkerResult[]) => rs.find((r) => !r.ok) ?? [...rs].sort((a, b) => a.value.ms - b.value.ms)[Math.floor(rs.length / 2)]!;
    const th = medianRun(ths);
    const wm = medianRun(wms);
    const roundRatios = ths.every((r) => r.ok) && wms.every((r) => r.ok) ? ths.map((r, i) => r.value.ms / wms[i]!.value.ms) : [];
    json.results.pull.rounds = { trackhubMs: ths.map((r) => r.value?.ms), watermelonMs: wms.map((r) => r.value?.ms), ratios: roundRatios };
    const floor = await pullRun('floor');
    json.results.pull.floor = floor;
    json.results.pull.server = await server.stop();
    json.results.pull.trackhub = th;
    json.results.pull.watermelon = wm;
    if (!th.ok) add({ section: 'pull', name: 'trackhub syncPull', value: 'error', status: 'error', target: th.error });
    if (!wm.ok) add({ section: 'pull', name: 'WatermelonDB synchronize()', value: 'error', status: 'error', target: wm.error });
    if (th.ok && wm.ok) {
      const ratio = th.value.ms / wm.value.ms;
      json.results.pull.ratio = ratio;
      const spread = roundRatios.length > 1 ? `; rounds ${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}x` : '';
      add({ section: 'pull', name: `trackhub client.syncPull() (${th.value.pulled} items), median of ${ths.length}`, value: fmtMs(th.value.ms), rssMb: th.value.maxRssMb, ratio: `${ratio.toFixed(2)}x synchronize()${spread}`, target: '<= 0.7x synchronize()', status: check(ratio <= 0.7) });
      add({ section: 'pull', name: '  of which HTTP (server + transfer): trackhub / synchronize', value: `${fmtMs(th.value.httpMs)} / ${fmtMs(wm.value.httpMs)}` });
      add({ section: 'pull', name: `trackhub peak RSS`, value: `${th.value.maxRssMb} MB`, target: '<= 300 MB', status: check(th.value.maxRssMb <= 300) });
      add({ section: 'pull', name: `WatermelonDB synchronize() (${wm.value.pulled} items), median of ${wms.length}`, value: fmtMs(wm.value.ms), rssMb: wm.value.maxRssMb });
      if (floor.ok) {
        const f = floor.value;
        add({ section: 'pull', name: `floor: same JSON over HTTP ${fmtMs(f.fetchMs)} + SQLite insert in 1 tx ${fmtMs(f.insertMs)}`, value: fmtMs(f.ms), rssMb: f.maxRssMb, ratio: `trackhub ${(th.value.ms / f.ms).toFixed(2)}x floor` });
      } else add({ section: 'pull', name: 'floor', value: 'error', status: 'error', target: floor.error });
    }
  }
}

// ---------------------------------------------------------------- partial sync
if (ONLY.has('partial')) {
  const { projects, tasks } = cfg.partial;
  const bigRows = projects * tasks;
  log(`\npartial sync: a device subscribed to 1 of ${projects} Projects (${tasks} Tasks each, ${bigRows} rows in the tenant) vs a tenant of 1 Project x ${tasks} Tasks, initial pull of the scope, server on SQLite`);
  json.results.partial = {};
  let server;
  try {
    server = await startServerProcess(['sqlite', '--projects', `big:${projects}x${tasks},small:1x${tasks}`]);
  } catch (error) {
    add({ section: 'part', name: 'server', value: 'error', status: 'error', target: String(error) });
  }
  if (server) {
    const seeded = server.seeded;
    json.results.partial.seeding = { method: seeded.method, ms: seeded.seedMs, tenants: seeded.tenants };
    add({ section: 'part', name: `(untimed) seeding ${bigRows + tasks} Tasks (${seeded.method} SQL)`, value: fmtMs(seeded.seedMs) });
    // The middle project of the big tenant: its tasks are interleaved with the other 99's in the stream.
    const bigScope: string = seeded.projectIds.big[Math.floor(projects / 2)];
    const smallScope: string = seeded.projectIds.small[0];
    const run = async (mode: 'wire' | 'device', tenant: string, scope: string) => {
      await server.ask('servertime'); // starts a new sum
      const r = await runWorker(JS, 'partial-worker.ts', [mode, server.url, tenant, scope], { timeoutMs: 900_000 });
      const srv = await server.ask('servertime');
      return { ...r, serverMs: srv.ms as number, requests: srv.requests as number };
    };
    // Warm the server up (JIT, SQLite page cache of both scopes) so neither measured run pays for it:
    // a device run too, since a device also reads the tenant-wide streams (the first measured
    // device run paid ~2x in quick mode without it).
    json.results.partial.warmup = [await run('wire', 'small', smallScope), await run('wire', 'big', bigScope), await run('device', 'small', smallScope)];
    // Paired runs, alternating tenants; the run of median device time of each tenant is reported.
    const reps = 3;
    const median = (rs: Awaited<ReturnType<typeof run>>[]) => (rs.some((r) => !r.ok || r.value.skipped) ? rs.find((r) => !r.ok || r.value.skipped)! : [...rs].sort((a, b) => a.value.ms - b.value.ms)[Math.floor(rs.length / 2)]!);
    for (const mode of ['device', 'wire'] as const) {
      const bigs = [];
      const smalls = [];
      for (let rep = 0; rep < reps; rep++) {
        bigs.push(await run(mode, 'big', bigScope));
        smalls.push(await run(mode, 'small', smallScope));
        if (bigs[0]!.value?.skipped) break;
      }
      const big = median(bigs);
      const small = median(smalls);
      json.results.partial[mode] = { big, small, runs: { big: bigs, small: smalls } };
      const label = mode === 'device' ? 'device client.syncPull()' : 'wire: pages over HTTP';
      if (!big.ok || !small.ok) {
        add({ section: 'part', name: `${label}`, value: 'error', status: 'error', target: big.error ?? small.error });
        continue;
      }
      if (big.value.skipped) {
        skip('part', `${label}: 1% scope of ${bigRows}`, big.value.skipped);
        continue;
      }
      const exact = big.value.tasks === tasks && small.value.tasks === tasks;
      const ratio = big.value.ms / small.value.ms;
      json.results.partial[mode].ratio = ratio;
      const targeted = mode === 'device';
      add({
        section: 'part',
        name: `${label}: 1% scope of ${bigRows} (${big.value.tasks} tasks, median of ${bigs.length})`,
        value: fmtMs(big.value.ms),
        rssMb: big.value.maxRssMb,
        ratio: `${ratio.toFixed(2)}x ${tasks}-row tenant`,
        target: targeted ? `<= 1.5x the ${tasks}-row tenant` : undefined,
        status: exact ? (targeted ? check(ratio <= 1.5) : '') : 'error',
      });
      add({ section: 'part', name: `${label}: ${tasks}-row tenant (${small.value.tasks} tasks)`, value: fmtMs(small.value.ms), rssMb: small.value.maxRssMb });
      add({ section: 'part', name: `  server-side: 1% scope / ${tasks}-row tenant (${big.requests} / ${small.requests} req)`, value: `${fmtMs(big.serverMs)} / ${fmtMs(small.serverMs)}`, ratio: `${(big.serverMs / small.serverMs).toFixed(2)}x` });
      if (mode === 'device') add({ section: 'part', name: `  (timed apart) syncPull(['Project']): ${big.value.projects} / ${small.value.projects} projects`, value: `${fmtMs(big.value.projectsMs)} / ${fmtMs(small.value.projectsMs)}` });
      if (!exact) log(`    expected ${tasks} tasks in each, got ${big.value.tasks} (big) / ${small.value.tasks} (small)`);
    }
    json.results.partial.server = await server.stop();
  }
}

async function warmPull(url: string, tenant: string): Promise<number> {
  const t0 = performance.now();
  const query = 'query($entity:String!,$limit:Int,$cursor:String){ syncPull(entity:$entity,limit:$limit,cursor:$cursor){ items hasMore cursor } }';
  for (const entity of ['Space', 'Group']) {
    let cursor: string | undefined;
    for (;;) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:u1` },
        body: JSON.stringify({ query, variables: { entity, limit: 1000, ...(cursor ? { cursor } : {}) } }),
      });
      const page = ((await res.json()) as any).data.syncPull;
      if (!page.hasMore) break;
      cursor = page.cursor;
    }
  }
  return performance.now() - t0;
}

// ---------------------------------------------------------------- 4. load
if (ONLY.has('load')) {
  log(`\n4. server load: ${cfg.devices} devices doing push/pull cycles for ${cfg.seconds} s, server on PostgreSQL (server and devices in separate processes)`);
  if (pgReason) {
    skip('load', `${cfg.devices} devices`, pgReason);
    json.results.load = { skipped: pgReason };
  } else {
    const url = await freshBenchDatabase('load');
    let server;
    try {
      server = await startServerProcess(['postgresql', url]);
    } catch (error) {
      add({ section: 'load', name: 'server', value: 'error', status: 'error', target: String(error) });
    }
    if (server) {
      const r = await runWorker(JS, 'load-worker.ts', [server.url, String(cfg.devices), String(cfg.seconds)], { timeoutMs: 600_000 });
      const srv = await server.stop();
      json.results.load = { ...r, server: srv };
      if (!r.ok) add({ section: 'load', name: 'load', value: 'error', status: 'error', target: r.error });
      else {
        const v = r.value;
        add({ section: 'load', name: `throughput (${v.requests} requests, ${v.cycles} cycles)`, value: `${v.requestsPerSec.toFixed(0)} req/s`, ratio: `${v.cyclesPerSec.toFixed(1)} cycles/s` });
        add({ section: 'load', name: 'request latency p50', value: fmtMs(v.p50) });
        add({ section: 'load', name: 'request latency p99', value: fmtMs(v.p99), target: '< 200 ms', status: check(v.p99 < 200) });
        if (srv?.requests) add({ section: 'load', name: `  server-side p50 / p99 (${srv.requests} requests)`, value: `${Math.round(srv.serverP50)} / ${Math.round(srv.serverP99)} ms` });
        if (srv?.eventLoopDelay) add({ section: 'load', name: '  server event-loop delay p50 / p99 / max', value: `${Math.round(srv.eventLoopDelay.p50)} / ${Math.round(srv.eventLoopDelay.p99)} / ${Math.round(srv.eventLoopDelay.max)} ms` });
        if (srv?.lockWaits) add({ section: 'load', name: '  PostgreSQL sessions waiting on a lock: share of samples / max', value: `${Math.round(srv.lockWaits.withWaiters * 100)}% / ${srv.lockWaits.max}` });
        add({ section: 'load', name: `  push p50 / p99`, value: `${Math.round(v.pushP50)} / ${Math.round(v.pushP99)} ms` });
        add({ section: 'load', name: `  pull p50 / p99`, value: `${Math.round(v.pullP50)} / ${Math.round(v.pullP99)} ms` });
        add({ section: 'load', name: `  sync cycle p50 / p99`, value: `${Math.round(v.cycleP50)} / ${Math.round(v.cycleP99)} ms` });
        add({ section: 'load', name: 'errors (requests, cycles, items)', value: String(v.errors), ratio: `${v.requestErrors}/${v.cycleErrors}/${v.itemErrors}`, status: v.errors === 0 ? 'met' : 'MISSED' });
        add({ section: 'load', name: 'peak RSS server / devices', value: `${srv?.maxRssMb ?? '?'} / ${v.maxRssMb} MB` });
      }
    }
    await dropBenchDatabase(url).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- 5. replicas
if (ONLY.has('replicas')) {
  log(`\n5. replicas: ${cfg.devices} devices for ${cfg.seconds} s through a round-robin proxy to 1, then 2 server replicas on one PostgreSQL database`);
  if (pgReason) {
    skip('replicas', `${cfg.devices} devices`, pgReason);
    json.results.replicas = { skipped: pgReason };
  } else {
    const measured: Record<number, { requestsPerSec: number; p50: number; p99: number; errors: number }> = {};
    json.results.replicas = {};
    for (const count of [1, 2]) {
      const url = await freshBenchDatabase(`replicas_${count}`);
      const servers: Awaited<ReturnType<typeof startServerProcess>>[] = [];
      try {
        // The first replica creates the tables; the next ones find them.
        for (let i = 0; i < count; i++) servers.push(await startServerProcess(['postgresql', url, ...(i > 0 ? ['--replica'] : [])]));
        const proxy = await startRoundRobinProxy(servers.map((s) => new URL(s.url).origin));
        const r = await runWorker(JS, 'load-worker.ts', [`${proxy.url}/graphql`, String(cfg.devices), String(cfg.seconds)], { timeoutMs: 600_000 });
        await proxy.stop();
        json.results.replicas[count] = { ...r, perReplica: proxy.counts };
        if (!r.ok) add({ section: 'repl', name: `${count} replica(s)`, value: 'error', status: 'error', target: r.error });
        else {
          const v = r.value;
          measured[count] = v;
          const tag = `${count} replica${count > 1 ? 's' : ''}`;
          add({ section: 'repl', name: `${tag}: throughput (${v.requests} req, split ${proxy.counts.join('/')})`, value: `${v.requestsPerSec.toFixed(0)} req/s`, ratio: `${v.cyclesPerSec.toFixed(1)} cycles/s` });
          add({ section: 'repl', name: `${tag}: request latency p50 / p99`, value: `${Math.round(v.p50)} / ${Math.round(v.p99)} ms`, target: 'p99 < 200 ms', status: check(v.p99 < 200) });
          add({ section: 'repl', name: `${tag}: errors (requests, cycles, items)`, value: String(v.errors), ratio: `${v.requestErrors}/${v.cycleErrors}/${v.itemErrors}`, status: v.errors === 0 ? 'met' : 'MISSED' });
        }
      } catch (error) {
        add({ section: 'repl', name: `${count} replica(s)`, value: 'error', status: 'error', target: String(error) });
      } finally {
        for (const s of servers) await s.stop();
        await dropBenchDatabase(url).catch(() => undefined);
      }
    }
    if (measured[1] && measured[2]) {
      const ratio = measured[2].requestsPerSec / measured[1].requestsPerSec;
      add({ section: 'repl', name: 'throughput 2 replicas / 1 replica', value: `${ratio.toFixed(2)}x`, target: '>= 1x', status: check(ratio >= 1) });
    }
  }
}

// ---------------------------------------------------------------- table + JSON
const totalMs = performance.now() - started;
json.totalSeconds = +(totalMs / 1000).toFixed(1);
json.machine.loadavgAtEnd = os.loadavg();
json.table = rows;
const w = [7, 50, 13, 9, 22, 26];
const line = (c: string[]) => '| ' + c.map((s, i) => s.padEnd(w[i]!)).join(' | ') + ' |';
log(`\nSummary (${QUICK ? 'quick' : 'full'} mode, ${json.totalSeconds} s)`);
log(line(['', 'measure', 'value', 'peak RSS', 'ratio', 'target']));
log(line(w.map((n) => '-'.repeat(n))));
for (const r of rows) {
  const target = r.status === 'skipped' ? r.target! : r.target ? `${r.target.slice(0, 60)}${r.status ? ` ${r.status}` : ''}` : r.status === 'error' ? 'error' : '';
  log(line([r.section, r.name, r.value, r.rssMb !== undefined ? `${r.rssMb} MB` : '', r.ratio ?? '', target]));
}
const outDir = path.join(REPO, 'bench-results');
mkdirSync(outDir, { recursive: true });
const text = JSON.stringify(json, null, 2);
writeFileSync(path.join(outDir, 'latest.json'), text);
writeFileSync(path.join(outDir, `${json.mode}-${json.date.replace(/[:.]/g, '-')}.json`), text);
log(`\nwrote bench-results/latest.json`);
process.exit(0);
