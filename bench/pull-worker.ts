/**
 * Initial pull into a fresh device, in its own process (peak RSS per run):
 *   node --import @swc-node/register/esm-register bench/pull-worker.ts <trackhub|watermelon|floor> <graphqlUrl> <tenant>
 *
 * trackhub:   the generated client's syncPull() (all entities, default page size).
 * watermelon: WatermelonDB's own synchronize() on the same generated schema, models and
 *             SQLite adapter, fed by a pullChanges that pages the same server's syncPull
 *             (same page size, same GraphQL query) and converts items to WatermelonDB's
 *             changes format (same column encoding, relation ids mapped to local ids).
 * floor:      the same pages fetched and parsed (nothing else), then the same rows inserted
 *             straight into the device's SQLite file in one transaction (better-sqlite3, one
 *             prepared INSERT per table). Reports fetchMs and insertMs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Q } from '@nozbe/watermelondb';
import BetterSqlite3 from 'better-sqlite3';
import * as syncModule from '@nozbe/watermelondb/sync/index.js';
import { wireToRaw, type EntityDescriptor } from 'trackhub-gen/runtime/client';

const isoToMillis = (v: unknown): number | null => (typeof v === 'string' ? Date.parse(v) : null);

import { createClient, createDatabase, entityDescriptors } from '../generated-example/client/generated/index.js';
import { result } from './lib.js';
import { stockSqliteAdapter } from './stock-adapter.js';

const synchronize: typeof import('@nozbe/watermelondb/sync/index.js').synchronize =
  (syncModule as any).synchronize ?? (syncModule as any).default?.synchronize;

const [mode, url, tenant] = process.argv.slice(2) as [string, string, string];
const PAGE = 1000;
const QUERY =
  'query($entity:String!,$since:DateTime,$limit:Int,$cursor:String){ syncPull(entity:$entity,since:$since,limit:$limit,cursor:$cursor){ items lastSyncAt hasMore cursor } }';
const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-pull-'));

async function countRows(db: any): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of entityDescriptors) out[e.table] = await db.get(e.table).query(Q.where('deleted_at', null)).fetchCount();
  return out;
}

async function pageAll(entity: string, onPage: (items: any[]) => void): Promise<void> {
  let cursor: string | null = null;
  for (;;) {
    const res = await timedFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:u1` },
      body: JSON.stringify({ query: QUERY, variables: { entity, limit: PAGE, ...(cursor ? { cursor } : {}) } }),
    });
    const body = (await res.json()) as any;
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    const page = body.data.syncPull;
    onPage(page.items);
    if (!page.hasMore) return;
    cursor = page.cursor;
  }
}

function toRaw(entity: EntityDescriptor, item: any, localIds: Map<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {
    id: item.clientId ?? item.id,
    server_id: item.id,
    client_id: item.clientId ?? null,
    version: item.version,
    server_updated_at: isoToMillis(item.updatedAt),
    deleted_at: isoToMillis(item.deletedAt),
  };
  for (const f of entity.fields) {
    let v = item[f.name];
    if (f.relation && typeof v === 'string') v = localIds.get(v) ?? v;
    raw[f.column] = v === undefined ? null : wireToRaw(f, v);
  }
  return raw;
}

let httpMs = 0;
/** BENCH_PULL_TRACE=1: each request's [start, end] (ms since start), printed to stderr as `@@TRACE <json>` at the end. */
const trace: Array<[number, number]> | null = process.env.BENCH_PULL_TRACE ? [] : null;
const timedFetch = (async (u: string, init: RequestInit) => {
  const t = performance.now();
  try {
    const res = await fetch(u, init);
    const text = await res.text();
    // The body read once, here (its end is the request's end): what the caller reads is that
    // text, not a new Response that would encode it again and decode it once more.
    return { ok: res.ok, status: res.status, statusText: res.statusText, headers: res.headers, text: async () => text, json: async () => JSON.parse(text) as unknown } as Response;
  } finally {
    httpMs += performance.now() - t;
    trace?.push([t - t0, performance.now() - t0]);
  }
}) as typeof fetch;
process.on('exit', () => {
  if (trace) process.stderr.write(`@@TRACE ${JSON.stringify(trace.map(([a, b]) => [Math.round(a), Math.round(b)]))}\n`);
});

const t0 = performance.now();
let rows: Record<string, number>;
if (mode === 'trackhub') {
  const client = createClient({ tenantId: tenant, url, token: `dev:${tenant}:u1`, dbDir: dir, pullLimit: PAGE, fetch: timedFetch });
  const report = await client.syncPull();
  const ms = performance.now() - t0;
  rows = await countRows(client.database);
  await client.close();
  finish(ms, { pulled: report.entities.reduce((a: number, e: any) => a + e.pulled, 0), pages: report.entities.reduce((a: number, e: any) => a + e.pages, 0) });
} else if (mode === 'floor') {
  // The floor: the same JSON fetched over the same HTTP (all pages, parsed), then the same
  // rows inserted straight into the device's SQLite file (schema made by createDatabase)
  // in one transaction, one prepared INSERT per table reused for every row.
  const database = createDatabase({ tenantId: tenant, dbDir: dir, adapter: stockSqliteAdapter });
  await database.get(entityDescriptors[0]!.table).query().fetchCount(); // opens the file, creates the schema
  const pages: Array<{ entity: EntityDescriptor; items: any[] }> = [];
  let pulled = 0;
  const f0 = performance.now();
  for (const entity of entityDescriptors) await pageAll(entity.name, (items) => (pulled += items.length, pages.push({ entity, items })));
  const fetchMs = performance.now() - f0;
  const i0 = performance.now();
  const localIds = new Map<string, string>();
  const raws = pages.map(({ entity, items }) => ({ entity, rows: items.filter((item) => !item.deletedAt).map((item) => { localIds.set(item.id, item.clientId ?? item.id); return toRaw(entity, item, localIds); }) }));
  const sqlite = new BetterSqlite3(path.join(dir, `trackhub_db_${tenant}.db`));
  const columnsOf = new Map<string, string[]>();
  const statements = new Map<string, BetterSqlite3.Statement>();
  sqlite.transaction(() => {
    for (const { entity, rows } of raws) {
      let columns = columnsOf.get(entity.table);
      if (!columns) {
        columns = (sqlite.prepare(`pragma table_info("${entity.table}")`).all() as { name: string }[]).map((c) => c.name);
        columnsOf.set(entity.table, columns);
        statements.set(entity.table, sqlite.prepare(`insert into "${entity.table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`));
      }
      const insert = statements.get(entity.table)!;
      for (const row of rows) insert.run(columns.map((c) => (c === '_status' ? 'synced' : c === '_changed' ? '' : typeof row[c] === 'boolean' ? (row[c] ? 1 : 0) : (row[c] ?? null))));
    }
  })();
  sqlite.close();
  const insertMs = performance.now() - i0;
  rows = await countRows(database);
  finish(fetchMs + insertMs, { pulled, fetchMs, insertMs });
} else {
  const database = createDatabase({ tenantId: tenant, dbDir: dir, adapter: stockSqliteAdapter });
  let pulled = 0;
  await synchronize({
    database,
    pullChanges: async () => {
      const localIds = new Map<string, string>();
      const changes: Record<string, { created: any[]; updated: any[]; deleted: string[] }> = {};
      for (const entity of entityDescriptors) {
        const set = (changes[entity.table] = { created: [] as any[], updated: [] as any[], deleted: [] as string[] });
        await pageAll(entity.name, (items) => {
          pulled += items.length;
          for (const item of items) {
            const localId = item.clientId ?? item.id;
            localIds.set(item.id, localId);
            if (item.deletedAt) set.deleted.push(localId);
            else set.created.push(toRaw(entity, item, localIds));
          }
        });
      }
      return { changes, timestamp: Date.now() } as any;
    },
    pushChanges: async () => {},
  });
  const ms = performance.now() - t0;
  rows = await countRows(database);
  finish(ms, { pulled });
}

function finish(ms: number, extra: Record<string, unknown>): void {
  rmSync(dir, { recursive: true, force: true });
  result({ mode, ms, httpMs, rows, ...extra });
  process.exit(0);
}
