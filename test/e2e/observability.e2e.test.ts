/**
 * Observability end to end: real devices sync against the generated example
 * server over HTTP; then `/metrics` is scraped and must hold the expected
 * series with the counts the devices saw, the structured sync log must carry
 * counts and codes but no record data, and `trackhub-gen inspect` must read
 * the device database the flow left behind.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import type { DeviceInspection } from '../../src/cli/inspect.js';
import { METRIC, type SyncLogEntry } from '../../src/runtime/server/index.js';
import type { SyncReport } from '../../src/runtime/client/node.js';
import { runCli } from '../support/cli.js';
import { exampleDatabases, postGraphql, switchableFetch, type RunningServer } from '../support/example-server.js';
import { familyOf, metricFamilies, parseExposition, promqlSelectors, sample } from '../support/prometheus.js';

const databases = await exampleDatabases('observability');
const SCRAPE_TOKEN = 'scrape-secret';

describe.each(databases)('observability on $name: metrics, sync log, device inspector', ({ start }) => {
  let server: RunningServer;
  const dirs: string[] = [];
  const clients: OfflineFirstClient[] = [];
  const log: SyncLogEntry[] = [];
  const reports: SyncReport[] = [];

  function device(userId: string, options: { reportMetrics?: boolean; manual?: boolean } = {}) {
    const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-obs-device-'));
    dirs.push(dbDir);
    const net = switchableFetch();
    const client = createClient({
      tenantId: 't1',
      url: server.url,
      token: `dev:t1:${userId}`,
      dbDir,
      fetch: net.fetch,
      ...(options.reportMetrics ? { reportMetrics: true } : {}),
      ...(options.manual ? { onConflict: () => 'manual' as const } : {}),
    });
    clients.push(client);
    const sync = async () => {
      const report = await client.syncAll();
      reports.push(report);
      return report;
    };
    return { client, net, dbDir, sync };
  }

  const scrape = async (token: string | null = SCRAPE_TOKEN) =>
    fetch(server.url.replace(/\/graphql$/, '/metrics'), { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    server = await start({ metrics: { token: SCRAPE_TOKEN }, syncLog: (entry) => log.push(entry) });
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('scrapes the expected series with the counts of a real sync (pushes, pulls, a conflict, a per-item error, device reports); logs hold no data; inspect reads the device', async () => {
    const a = device('alice', { reportMetrics: true, manual: true });
    const b = device('bob');

    // A creates a Space and syncs (its first sync: it reports "never synced").
    const kitchen = await a.client.spaces.create({ name: 'Kitchen', ownerId: 'alice' });
    await a.sync();
    await b.sync();
    expect((await b.client.spaces.list()).map((s) => s.name)).toEqual(['Kitchen']);

    // A goes offline: an edit (older than B's), a new Space, a Space the server refuses, a queued upload.
    a.net.online = false;
    await a.client.spaces.update(kitchen.id, { name: 'Kitchen by Alice' });
    const garage = await a.client.spaces.create({ name: 'Garage', ownerId: 'alice' });
    const blank = await a.client.spaces.create({ name: '   ', ownerId: 'alice' });
    await a.client.uploads.enqueue('Space', garage.id, 'coverUrl', '/photos/garage.jpg');
    await new Promise((r) => setTimeout(r, 5));
    await b.client.spaces.update(kitchen.id, { name: 'Kitchen by Bob' });
    await b.sync();

    // A back online: Garage is created, the blank name is refused, the Kitchen edit conflicts (left to the user).
    a.net.online = true;
    const last = await a.sync();
    const spaceReport = last.entities.find((e) => e.entity === 'Space')!;
    expect(spaceReport).toMatchObject({ pushed: 3, succeeded: 1, failed: 1, conflicts: 1 });

    // A request without a token.
    const anonymous = await postGraphql(server.url, 'query { syncPull(entity: "Space") { hasMore } }');
    expect(anonymous.errors[0].extensions.code).toBe('UNAUTHENTICATED');

    // ---- the scrape endpoint is protected by the configured token
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('wrong')).status).toBe(401);
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const exposition = await res.text();
    const samples = parseExposition(exposition);
    const value = (name: string, labels: Record<string, string> = {}) => sample(samples, name, labels);

    // Items pushed / pulled per entity: exactly what the devices' sync reports counted.
    for (const entity of ['Space', 'Group', 'Checklist', 'ChecklistItem', 'Company', 'Hero']) {
      const sum = (key: 'pushed' | 'pulled') =>
        reports.reduce((n, r) => n + (r.entities.find((e) => e.entity === entity)?.[key] ?? 0), 0);
      expect(value(METRIC.itemsPushed, { entity }), `${entity} pushed`).toBe(sum('pushed'));
      expect(value(METRIC.itemsPulled, { entity }), `${entity} pulled`).toBe(sum('pulled'));
    }
    expect(value(METRIC.itemsPushed, { entity: 'Space' })).toBe(5); // A: 1 + 3, B: 1
    expect(value(METRIC.conflicts, { entity: 'Space', outcome: 'conflict' })).toBe(1);
    expect(value(METRIC.conflicts, { entity: 'Space', outcome: 'resolved' })).toBe(0);
    expect(value(METRIC.itemErrors, { entity: 'Space', code: 'VALIDATION_FAILED' })).toBe(1);

    // Requests: one per push / pull operation the devices sent (a request that pulls the first
    // pages of several streams holds one syncPull field per stream), plus the anonymous one.
    const calls = (op: string) =>
      [...a.net.requests, ...b.net.requests].reduce((n, r) => n + (r.body.match(op === 'push' ? /syncPush\(/g : /syncPull\(/g)?.length ?? 0), 0);
    expect([...a.net.requests, ...b.net.requests].some((r) => (r.body.match(/syncPull\(/g)?.length ?? 0) > 1)).toBe(true);
    expect(value(METRIC.requests, { op: 'push', outcome: 'ok' })).toBe(calls('push'));
    expect(value(METRIC.requests, { op: 'pull', outcome: 'ok' })).toBe(calls('pull'));
    expect(value(METRIC.requests, { op: 'pull', outcome: 'UNAUTHENTICATED' })).toBe(1);
    expect(value(`${METRIC.pushDuration}_count`, { entity: 'Space' })).toBe(3);
    expect(value(`${METRIC.batchSize}_sum`, { op: 'push', entity: 'Space' })).toBe(5);
    expect(value(`${METRIC.pullDuration}_count`, { entity: 'Space' })).toBeGreaterThanOrEqual(4);

    // Device reports: A reported twice (one per sync run, not per request), B never.
    expect(value(METRIC.clientReports, { result: 'never_synced' })).toBe(1);
    expect(value(METRIC.clientReports, { result: 'accepted' })).toBe(1);
    expect(value(`${METRIC.clientQueueSize}_count`)).toBe(2);
    expect(value(`${METRIC.clientQueueSize}_sum`)).toBe(1 + 3); // the Kitchen create, then edit + 2 creates
    expect(value(`${METRIC.clientLastSyncAge}_count`)).toBe(1);
    expect(value(`${METRIC.clientUploadsPending}_sum`)).toBe(1);
    expect(value(`${METRIC.clientDbSize}_count`)).toBe(2);
    expect(value(`${METRIC.clientDbSize}_sum`)).toBeGreaterThan(0);

    // Bounded labels: no tenant, user, record or client id anywhere in the exposition.
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const secret of ['t1', 'alice', 'bob', kitchen.id, garage.id, blank.id]) expect(labelValues).not.toContain(secret);
    expect(new Set(samples.flatMap((s) => Object.keys(s.labels)))).toEqual(new Set(['entity', 'op', 'outcome', 'code', 'result', 'le']));

    // Every metric the generated dashboard and alert rules query is in this real scrape.
    const families = metricFamilies(exposition);
    const ops = path.resolve(import.meta.dirname, '../../generated-example/ops');
    const dashboardExprs = JSON.parse(readFileSync(path.join(ops, 'grafana-dashboard.json'), 'utf8'))
      .panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((t) => t.expr)) as string[];
    const alertExprs = [...readFileSync(path.join(ops, 'prometheus-alerts.yml'), 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]);
    expect(dashboardExprs.length + alertExprs.length).toBeGreaterThan(30);
    for (const expr of [...dashboardExprs, ...alertExprs])
      for (const s of await promqlSelectors(expr)) expect(familyOf(s.metric, families), `${s.metric} scraped`).toBeDefined();

    // CRUD metrics: one online create.
    const created = await postGraphql(server.url, 'mutation { createSpace(input: { name: "Online", ownerId: "alice" }) { id } }', {}, 'dev:t1:alice');
    expect(created.errors).toBeUndefined();
    const after = parseExposition(await (await scrape()).text());
    expect(sample(after, METRIC.crudRequests, { entity: 'Space', op: 'create', outcome: 'ok' })).toBe(1);

    // ---- structured log: one line per request, counts and codes, never values or ids
    const push = log.find((e) => e.op === 'push' && e.entity === 'Space' && e.items === 3)!;
    expect(push).toMatchObject({
      tenant: 't1',
      outcome: 'ok',
      succeeded: 1,
      conflicts: 1,
      failed: 1,
      errorCodes: { CONFLICT: 1, VALIDATION_FAILED: 1 },
      clientMetrics: true, // the first request of A's sync run carries A's report
    });
    expect(log.filter((e) => e.clientMetrics)).toHaveLength(2);
    expect(push.durationMs).toBeGreaterThanOrEqual(0);
    expect(log.filter((e) => e.outcome === 'UNAUTHENTICATED')).toEqual([
      expect.objectContaining({ op: 'pull', tenant: null, entity: 'Space', items: 0 }),
    ]);
    expect(log.length).toBe(calls('push') + calls('pull') + 1);
    const text = JSON.stringify(log);
    for (const value of ['Kitchen', 'Garage', 'Alice', 'Bob', 'alice', kitchen.id, garage.id, blank.id, 'dev:t1']) expect(text).not.toContain(value);

    // ---- the device inspector on A's database
    const dbFile = path.join(a.dbDir, 'trackhub_db_t1.db');
    // The database and its WAL, byte for byte. The `-shm` file is SQLite's shared-memory
    // index of the WAL, where every reader records its read mark: no data, left out.
    const bytes = () =>
      readdirSync(a.dbDir)
        .filter((f) => !f.endsWith('-shm'))
        .map((f) => readFileSync(path.join(a.dbDir, f)).toString('base64'))
        .join();
    const before = bytes();
    const json = await runCli(['inspect', dbFile, '--json']);
    expect(bytes()).toBe(before); // read-only
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as DeviceInspection;
    expect(report).toMatchObject({ file: dbFile, tenantId: 't1' });
    expect(report.sizeBytes).toBeGreaterThan(0);
    const waiting = report.queue.operations.map((op) => [op.entity, op.operation, op.entityId, op.status]);
    expect(waiting).toEqual(
      expect.arrayContaining([
        ['Space', 'update', kitchen.id, expect.any(String)],
        ['Space', 'insert', blank.id, 'failed'],
      ]),
    );
    expect(report.queue.total).toBe(2);
    const failed = report.queue.operations.find((op) => op.entityId === blank.id)!;
    expect(failed.lastError).toContain('VALIDATION_FAILED');
    expect(failed.fields).toContain('name');
    expect(report.conflicts).toMatchObject({ open: 1, resolved: 0 });
    expect(report.conflicts.items[0]).toMatchObject({ entity: 'Space', entityId: kitchen.id, resolved: false });
    expect(report.uploads.byStatus).toEqual({ pending: 1 });
    expect(report.uploads.items[0]).toMatchObject({ entity: 'Space', entityId: garage.id, field: 'coverUrl', localPath: '/photos/garage.jpg' });
    expect(report.syncState.map((s) => s.entity).sort()).toEqual(['Checklist', 'ChecklistItem', 'Company', 'Group', 'Hero', 'Project', 'Space']);
    expect(report.syncState.every((s) => s.lastSyncAt !== null && s.cursor !== null)).toBe(true);
    const spaces = report.tables.find((t) => t.table === 'spaces')!;
    expect(spaces.rows).toBe(await a.client.database.get('spaces').query().fetchCount());
    expect(spaces.notOnServer).toBe(1); // the refused blank Space
    expect(report.tables.map((t) => t.table)).not.toContain('operation_queue');

    const human = await runCli(['inspect', dbFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('operation queue: 2 waiting');
    expect(human.stdout).toContain('conflicts: 1 open, 0 resolved');
    expect(human.stdout).toMatch(/failed\s+Space insert/);
    if (process.env.TRACKHUB_PRINT_INSPECT) console.log(`${human.stdout}\n${JSON.stringify(push)}`);
  });
});

describe('metrics endpoint options (SQLite)', () => {
  const sqlite = databases[0];
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const get = (url: string, p: string) => fetch(url.replace(/\/graphql$/, p));

  it('serves on another path when asked, open without a token', async () => {
    server = await sqlite.start({ metrics: { path: '/ops/metrics' } });
    expect((await get(server.url, '/metrics')).status).toBe(404);
    const res = await get(server.url, '/ops/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`# TYPE ${METRIC.itemsPushed} counter`);
  });

  it('metrics: false serves no endpoint and sync still works', async () => {
    server = await sqlite.start({ metrics: false });
    expect((await get(server.url, '/metrics')).status).toBe(404);
    const pull = await postGraphql(server.url, 'query { syncPull(entity: "Space") { hasMore } }', {}, 'dev:t1:u1');
    expect(pull).toEqual({ data: { syncPull: { hasMore: false } } });
  });
});
