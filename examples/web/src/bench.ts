/**
 * Bench page (npm run bench:web): the initial pull of a tenant into IndexedDB,
 * `?mode=trackhub` with the generated client's syncPull(), `?mode=watermelon` with
 * WatermelonDB's own synchronize() on the same generated schema, models and LokiJS
 * adapter, fed by a pullChanges that pages the same server's syncPull (same page size,
 * same query) and converts items to WatermelonDB's changes format (same column
 * encoding as bench/pull-worker.ts does in Node). Sets `window.benchResult`.
 */
import { Q } from '@nozbe/watermelondb';
import * as syncModule from '@nozbe/watermelondb/sync/index.js';
import { wireToRaw, type EntityDescriptor } from 'trackhub-gen/runtime/client';
import { webAdapter } from 'trackhub-gen/runtime/client/web';

import { createClient, createDatabase, entityDescriptors } from '../../../generated-example/client/generated/index.js';

const synchronize: typeof import('@nozbe/watermelondb/sync/index.js').synchronize =
  (syncModule as any).synchronize ?? (syncModule as any).default?.synchronize;

const params = new URLSearchParams(location.search);
const mode = params.get('mode') ?? 'trackhub';
const tenant = params.get('tenant') ?? 'bench';
const url = new URL('/graphql', location.href).href;
const PAGE = 1000;
const QUERY =
  'query($entity:String!,$since:DateTime,$limit:Int,$cursor:String){ syncPull(entity:$entity,since:$since,limit:$limit,cursor:$cursor){ items lastSyncAt hasMore cursor } }';
const isoToMillis = (v: unknown): number | null => (typeof v === 'string' ? Date.parse(v) : null);

async function countRows(db: any): Promise<number> {
  let n = 0;
  for (const e of entityDescriptors) n += await db.get(e.table).query(Q.where('deleted_at', null)).fetchCount();
  return n;
}

async function pageAll(entity: string, onPage: (items: any[]) => void): Promise<void> {
  let cursor: string | null = null;
  for (;;) {
    const res = await fetch(url, {
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

const heapMb = (): number | null => {
  const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? Math.round((memory.usedJSHeapSize / 1024 / 1024) * 10) / 10 : null;
};

async function run(): Promise<Record<string, unknown>> {
  const heapBefore = heapMb();
  const t0 = performance.now();
  if (mode === 'trackhub') {
    const client = createClient({ tenantId: tenant, url, token: `dev:${tenant}:u1`, adapter: webAdapter(), pullLimit: PAGE });
    const report = await client.syncPull();
    const ms = performance.now() - t0;
    const heapAfter = heapMb();
    return { mode, ms, heapBefore, heapAfter, rows: await countRows(client.database), pulled: report.entities.reduce((a, e) => a + e.pulled, 0) };
  }
  const database = createDatabase({ tenantId: `${tenant}_watermelon`, adapter: webAdapter() });
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
  const heapAfter = heapMb();
  return { mode, ms, heapBefore, heapAfter, rows: await countRows(database), pulled };
}

run().then(
  (result) => {
    (window as any).benchResult = result;
    document.getElementById('out')!.textContent = JSON.stringify(result, null, 2);
  },
  (error: unknown) => {
    (window as any).benchResult = { mode, error: String((error as Error)?.stack ?? error) };
  },
);
