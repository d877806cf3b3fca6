/**
 * The generated example server in its own process:
 *   node --import @swc-node/register/esm-register bench/server-worker.ts <sqlite|postgresql> [pgUrl] [--seed N --tenant T] [--replica]
 *     [--projects big:100x10000,small:1x10000 [--seed-method raw|createMany]]
 * (`--replica`: another replica on the same database: keeps the tables the first one created;
 * `--projects`: tenants of Projects x Tasks for the partial-sync bench, SQLite raw inserts by default)
 * Prints `@@SEEDED <json>` (counts, seeding ms, project ids) and `@@READY <graphql url>`.
 * On stdin, the line `servertime` answers `@@ANSWER {"ms":..,"requests":..}`: the sum of the
 * server-side time of the requests since the previous `servertime` (then starts a new sum).
 * Exits (printing @@RESULT with its peak RSS) when stdin closes.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { percentile, result } from './lib.js';
import { seed, seedProjects, startServer, type ProjectTenant } from './server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: '0' },
    tenant: { type: 'string', default: 'bench' },
    replica: { type: 'boolean', default: false },
    projects: { type: 'string' },
    'seed-method': { type: 'string', default: 'raw' },
  },
});
const [provider, url] = positionals;
const server = await startServer(provider === 'postgresql' ? { provider: 'postgresql', url: url! } : { provider: 'sqlite' }, !values.replica);
const n = Number(values.seed);
const t0 = performance.now();
const seeded = n > 0 ? await seed(server.prisma, values.tenant!, n) : { spaces: 0, groups: 0 };
let seedMs = performance.now() - t0;
if (values.projects) {
  const method = values['seed-method'];
  if (method !== 'raw' && method !== 'createMany') throw new Error(`--seed-method must be raw or createMany, got ${method}`);
  if (method === 'raw' && provider !== 'sqlite') throw new Error('--seed-method raw is SQLite SQL; use createMany on PostgreSQL');
  const tenants: ProjectTenant[] = values.projects.split(',').map((spec) => {
    const m = /^([\w-]+):(\d+)x(\d+)$/.exec(spec);
    if (!m) throw new Error(`--projects takes tenant:PROJECTSxTASKS[,...], got ${spec}`);
    return { tenantId: m[1]!, projects: Number(m[2]), tasksPerProject: Number(m[3]) };
  });
  const p0 = performance.now();
  const projectIds = await seedProjects(server.prisma, tenants, method);
  const projectsSeedMs = performance.now() - p0;
  seedMs += projectsSeedMs;
  process.stdout.write(`@@SEEDED ${JSON.stringify({ method, tenants, seedMs: projectsSeedMs, projectIds })}\n`);
}
// Where a server-side tail comes from: the event loop's own delay (CPU-bound JavaScript, GC),
// and on PostgreSQL how many of the server's sessions wait on a lock (sampled every 20 ms).
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const lockSamples: number[] = [];
let sampler: ReturnType<typeof setInterval> | undefined;
let sampling: pg.Client | undefined;
if (provider === 'postgresql') {
  sampling = new pg.Client({ connectionString: url });
  await sampling.connect();
  const db = decodeURIComponent(new URL(url!).pathname.slice(1));
  let busy = false;
  sampler = setInterval(() => {
    if (busy) return;
    busy = true;
    sampling!
      .query(`select count(*) filter (where wait_event_type = 'Lock') as waiting from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db])
      .then((r) => lockSamples.push(Number(r.rows[0].waiting)))
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 20);
}
process.stdout.write(`@@READY ${server.url}\n`);
process.stdin.resume();
let counted = 0;
let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const command = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (command === 'servertime') {
      const since = server.serverMs.slice(counted);
      counted = server.serverMs.length;
      process.stdout.write(`@@ANSWER ${JSON.stringify({ ms: since.reduce((a, b) => a + b, 0), requests: since.length })}\n`);
    } else if (command) process.stdout.write(`@@ANSWER ${JSON.stringify({ error: `unknown command ${command}` })}\n`);
  }
});
process.stdin.on('end', async () => {
  if (sampler) clearInterval(sampler);
  await sampling?.end().catch(() => undefined);
  loop.disable();
  await server.stop();
  const ms = server.serverMs.sort((a, b) => a - b);
  const locks = lockSamples.sort((a, b) => a - b);
  result({
    seeded,
    seedMs,
    requests: ms.length,
    serverP50: percentile(ms, 50),
    serverP99: percentile(ms, 99),
    eventLoopDelay: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    lockWaits: locks.length ? { samples: locks.length, withWaiters: locks.filter((n) => n > 0).length / locks.length, p99: percentile(locks, 99), max: locks[locks.length - 1] } : null,
  });
  process.exit(0);
});
