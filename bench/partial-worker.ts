/**
 * A partial-sync initial pull of one scope (one Project's Tasks and TaskNotes), in its own
 * process (peak RSS per run):
 *   node --import @swc-node/register/esm-register bench/partial-worker.ts <wire|device> <graphqlUrl> <tenant> <projectId>
 *
 * wire:   pages the scope's streams (Task, then TaskNote) over HTTP with `scope`, limit 1000,
 *         following the cursor, and counts the items (nothing stored).
 * device: a fresh Node device (the generated client on better-sqlite3): pulls Projects first
 *         (`syncPull(['Project'])`, timed apart as projectsMs), then `client.scopes.add('Project', id)`
 *         and the timed `client.syncPull()`; counts the Tasks the device holds. Answers
 *         `{ skipped }` when the generated client has no `scopes` yet (device side not merged).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Q } from '@nozbe/watermelondb';

import { createClient } from '../generated-example/client/generated/index.js';
import { result } from './lib.js';

const [mode, url, tenant, projectId] = process.argv.slice(2) as [string, string, string, string];
if (!['wire', 'device'].includes(mode) || !url || !tenant || !projectId) {
  throw new Error('usage: partial-worker.ts <wire|device> <graphqlUrl> <tenant> <projectId>');
}
const PAGE = 1000;
const QUERY =
  'query($entity:String!,$limit:Int,$cursor:String,$scope:ID){ syncPull(entity:$entity,limit:$limit,cursor:$cursor,scope:$scope){ items hasMore cursor scopeRevoked } }';

let httpMs = 0;
const timedFetch = (async (u: string, init: RequestInit) => {
  const t = performance.now();
  try {
    const res = await fetch(u, init);
    const text = await res.text();
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  } finally {
    const took = performance.now() - t;
    httpMs += took;
    // BENCH_PARTIAL_TRACE=1: one stderr line per request (entity, scope, cursor or not, ms).
    if (process.env.BENCH_PARTIAL_TRACE) {
      const v = JSON.parse(String(init.body ?? '{}')).variables ?? {};
      process.stderr.write(`trace ${JSON.stringify({ entity: v.entity, scope: v.scope ?? null, since: v.since ?? null, cursor: Boolean(v.cursor), ms: Math.round(took) })}\n`);
    }
  }
}) as typeof fetch;

if (mode === 'wire') {
  const counts: Record<string, number> = {};
  let pages = 0;
  const t0 = performance.now();
  for (const entity of ['Task', 'TaskNote']) {
    counts[entity] = 0;
    let cursor: string | null = null;
    for (;;) {
      const res = await timedFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:u1` },
        body: JSON.stringify({ query: QUERY, variables: { entity, limit: PAGE, scope: projectId, ...(cursor ? { cursor } : {}) } }),
      });
      const body = (await res.json()) as any;
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      const page = body.data.syncPull;
      if (page.scopeRevoked) throw new Error(`scope ${projectId} answered scopeRevoked for ${entity}`);
      pages++;
      counts[entity] += page.items.length;
      if (!page.hasMore) break;
      cursor = page.cursor;
    }
  }
  const ms = performance.now() - t0;
  result({ mode, ms, httpMs, pages, tasks: counts.Task, notes: counts.TaskNote });
} else {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-partial-'));
  const client: any = createClient({ tenantId: tenant, url, token: `dev:${tenant}:u1`, dbDir: dir, pullLimit: PAGE, fetch: timedFetch });
  if (!client.scopes || typeof client.scopes.add !== 'function') {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    result({ mode, skipped: 'the generated client has no client.scopes yet (device side of partial sync not merged)' });
    process.exit(0);
  }
  const p0 = performance.now();
  await client.syncPull(['Project']);
  const projectsMs = performance.now() - p0;
  const projects = await client.database.get('projects').query().fetchCount();
  await client.scopes.add('Project', projectId);
  httpMs = 0;
  const t0 = performance.now();
  const report = await client.syncPull();
  const ms = performance.now() - t0;
  const tasks = await client.database.get('tasks').query(Q.where('deleted_at', null)).fetchCount();
  const notes = await client.database.get('task_notes').query(Q.where('deleted_at', null)).fetchCount();
  await client.close();
  rmSync(dir, { recursive: true, force: true });
  const pages = (report?.entities ?? []).reduce((a: number, e: any) => a + (e.pages ?? 0), 0);
  result({ mode, ms, httpMs, projectsMs, projects, pages, tasks, notes });
}
process.exit(0);
