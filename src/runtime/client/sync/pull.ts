/**
 * Pull of one stream of an entity (its tenant-wide stream, or one scope root's: see
 * scopes.ts): page by page until `hasMore` is false, its reader (page-reader.ts) fetching
 * ahead while the pages already fetched are applied in groups (apply-remote.ts), the new
 * cursor stored only with the last page. Removals, a revoked scope and a reset (partial sync, read
 * rules) are applied as they come (docs/server-contract.md, "Partial sync").
 */
import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import { planApply, prepareSyncState, syncState } from './apply-remote.js';
import type { EngineContext } from './context.js';
import { isSqlAdapter, type KnownIds } from './ids.js';
import { PageReader } from './page-reader.js';
import { canInsertRaw, executeSql, indexStatements, restoreIndices, rowCount } from './raw-insert.js';
import { applyRemovals, unseenInStream } from './removals.js';
import type { PullStream } from './scopes.js';

export type { PullStream };
import type { EntitySyncReport } from './types.js';
import type { PulledChanges } from '../hooks.js';

/** Pulled items applied per writer transaction (one batch): fewer, bigger SQLite transactions write each index page once; 5,000 keeps a 100k-record initial pull near 300 MB peak RSS (10,000: about 320 MB). */
const PULL_APPLY_ITEMS = 5_000;
/**
 * New rows per adapter transaction of a group's INSERTs. SQLite runs on the JS thread, so
 * while a transaction runs no page request goes out; between two of them the reader sends
 * the next one, and the server prepares it while the device writes the next rows.
 */
const PULL_INSERT_ROWS = 1_000;
/** New rows of one group into an empty table from which its indices are dropped until the stream's last page (as WatermelonDB's own batch does from 1,000 operations). */
const DEFER_INDICES_ROWS = 1_000;

/** What a stream's pull ended with: `revoked` when the server answered that the scope is no longer readable. */
export interface PullOutcome {
  revoked: boolean;
}

/**
 * `opened`: a reader of the stream (page-reader.ts), used when it reads from the position
 * the stream is at now (else the pages are read again from there). `known`: the sync run's
 * local ids of records it applied (ids.ts), read for relation look-ups and added to.
 */
export async function pullEntity(
  ctx: EngineContext,
  entity: EntityDescriptor,
  report: EntitySyncReport,
  seen: Set<string> | undefined,
  stream: PullStream | null,
  opened: PageReader,
  known: KnownIds,
): Promise<PullOutcome> {
  const scope = stream?.scope ?? null;
  const state = await syncState(ctx, entity, scope);
  const since = state?.lastSyncAt ?? null;
  // The reader fetches pages ahead while the pages already fetched are applied in groups
  // of about PULL_APPLY_ITEMS items, one writer transaction (one batch) per group.
  const cursor = state?.cursor ?? null;
  let reader = opened;
  if (reader.since !== since || reader.cursor !== cursor) {
    reader.stop();
    reader = new PageReader(ctx, entity, scope, since, cursor, undefined);
  }

  // Rows this pull wrote into a table that was empty when it began (see raw-insert.ts):
  // while the table holds exactly those rows, an item of a record this run has not
  // applied yet (its server id is not in `known`) is new, and needs no look-up (a client
  // id names one server record: it cannot be the local id of another). `rows` is null
  // once anything else wrote to the table (the row count moved). Should another writer
  // delete one row and add another between two groups, and the added one come in a later
  // page, its INSERT fails on the primary key: the pull fails, nothing is half-written,
  // and the next pull looks every item up.
  const fresh: { rows: number | null } = { rows: 0 };
  const applied = known.get(entity.name) ?? new Map<string, string>();
  if (!known.has(entity.name)) known.set(entity.name, applied);
  let group: WireItem[] = [];
  /** The page each item of `group` came on. */
  let groupPages: number[] = [];
  let removals: Array<{ id: string; clientId: string | null; page: number }> = [];
  let pageNo = 0;
  /** A reset pass (the read rules changed): the server ids it delivered, to drop the rest at its end. */
  let reconcile: Set<string> | null = state?.reconcile ? new Set() : null;
  /**
   * A removal, or a record a reset pass did not deliver, was kept back (unsynced changes on
   * or below it): the pass's cursor is not stored, so it comes again (a reset pass: from
   * the start) and evicts the record once those changes are pushed or discarded.
   */
  let deferred = false;
  /** The table's indices were dropped for the INSERTs into it (empty when the stream began) and are not back yet. */
  let indicesDropped = false;
  try {
    for (;;) {
      const page = await reader.next();
      if (page.scopeRevoked) return { revoked: true };
      if (pageNo === 0 && page.reset) reconcile = new Set();
      pageNo += 1;
      if (reconcile) for (const item of page.items) if (typeof item.id === 'string') reconcile.add(item.id);
      for (const r of page.removals ?? []) removals.push({ ...r, page: pageNo });
      report.pages += 1;
      report.pulled += page.items.length;
      ctx.metrics.itemsPulled += page.items.length;
      if (seen) for (const item of page.items) if (typeof item.id === 'string') seen.add(item.id);
      const last = !page.hasMore;
      const nextCursor = page.cursor ?? null;
      if (!last && !nextCursor && page.items.length === 0)
        throw new Error(`syncPull(${entity.name}) answered hasMore without items or cursor`);
      for (const item of page.items) {
        group.push(item);
        groupPages.push(pageNo);
      }
      if (!last && group.length < PULL_APPLY_ITEMS) continue;
      const { items, gone } = laterWins(group, groupPages, removals);
      group = [];
      groupPages = [];
      removals = [];
      const { plan, changes } = await ctx.database.write(async () => {
        const removed = gone.length ? await applyRemovals(ctx, entity, gone, stream) : { ids: [] as string[], kept: 0 };
        if (removed.kept > 0) deferred = true;
        report.removed += removed.ids.length;
        const rawCreates = canInsertRaw(ctx, entity);
        if (isSqlAdapter(ctx.database.adapter.underlyingAdapter)) await restoreIndices(ctx.database, entity);
        const assumeNew = rawCreates && fresh.rows !== null && (await rowCount(ctx, entity)) === fresh.rows && !items.some((i) => typeof i.id !== 'string' || applied.has(i.id));
        // Only the raw path (an SQL adapter, nothing observing) tracks which rows this pull wrote.
        if (!assumeNew) fresh.rows = null;
        const plan = await planApply(ctx, entity, items, { rawCreates, assumeNew, known });
        report.keptLocal += plan.keptLocal;
        report.deleted += plan.deleted;
        const prepared = plan.prepare();
        if (last && reconcile) {
          const unseen = await unseenInStream(ctx, entity, stream, reconcile);
          // A record kept back (unsynced changes on or below it): the pass comes again, as for a removal.
          if (unseen.kept > 0) deferred = true;
          report.removed += unseen.gone.length;
          removed.ids.push(...unseen.gone.map((r) => r.id));
          prepared.push(...unseen.gone.map((r) => r.prepareDestroyPermanently()));
        }
        if (last && !deferred) prepared.push(prepareSyncState(ctx, entity, state, page.lastSyncAt, nextCursor, scope));
        // A reset pass that kept records back has dropped the others, so the device no longer
        // holds what the old position says it does (should the rules change back, the server
        // would continue from it and never send those again): the stream is reloaded from the
        // beginning, and its next pass reconciles.
        else if (last && reconcile) prepared.push(prepareSyncState(ctx, entity, state, null, null, scope, true));
        // Several adapter transactions in one writer: a crash between them leaves the new rows
        // without the cursor, and the next pull applies the same items again (found, updated).
        // Further transactions are as safe: the cursor is stored with the stream's last page only.
        const inserts = plan.insertSqls();
        const indices = indexStatements(ctx.database, entity);
        if (!indicesDropped && assumeNew && fresh.rows === 0 && plan.inserted >= DEFER_INDICES_ROWS) {
          await executeSql(ctx.database, indices.drop);
          indicesDropped = true;
        }
        const perTransaction = Math.max(1, Math.ceil((inserts.length * PULL_INSERT_ROWS) / Math.max(1, plan.inserted)));
        for (let i = 0; i < inserts.length; i += perTransaction) {
          if (i > 0) await yieldToEventLoop();
          await executeSql(ctx.database, inserts.slice(i, i + perTransaction));
        }
        // The indices are back before the stream's position is stored, and before anything
        // else may write to the table (the rows are no longer all this pull's).
        if (indicesDropped && (last || !assumeNew)) {
          await executeSql(ctx.database, indices.create);
          indicesDropped = false;
        }
        await ctx.database.batch(prepared);
        // Nothing but the INSERTs touched the table in this writer (no Model writes): no need to count again.
        if (fresh.rows !== null) fresh.rows = prepared.length === 0 ? fresh.rows + plan.inserted : await rowCount(ctx, entity);
        return { plan, changes: { ...plan.changes, deleted: [...plan.changes.deleted, ...removed.ids] } };
      }, 'trackhub:pullPage');
      plan.remember(known);
      await afterPull(ctx, entity, changes);
      if (last) return { revoked: false };
    }
  } finally {
    // Pages fetched ahead of a failure are dropped; a fetch in flight ends on its own.
    reader.stop();
    // A pull that failed midway puts the indices back (should this fail too, the next pull does).
    if (indicesDropped) await ctx.database.write(() => executeSql(ctx.database, indexStatements(ctx.database, entity).create), 'trackhub:restoreIndices').catch(() => undefined);
  }
}

/** Lets timers and I/O callbacks run (a page request or response) before going on. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Within a group, the later of an item and a removal of the same record wins (`pages[k]`:
 * the page `group[k]` came on): the items to apply and the removals to carry out.
 */
function laterWins<R extends { id: string; page: number }>(group: WireItem[], pages: number[], removals: R[]): { items: WireItem[]; gone: R[] } {
  if (removals.length === 0) return { items: group, gone: [] };
  const removedAt = new Map(removals.map((r) => [r.id, r.page]));
  const itemAt = new Map(group.map((i, k) => [String(i.id), pages[k]!]));
  return {
    items: group.filter((i) => !((removedAt.get(String(i.id)) ?? -1) > (itemAt.get(String(i.id)) ?? 0))),
    gone: removals.filter((r) => !((itemAt.get(r.id) ?? -1) >= r.page)),
  };
}

/** Tells the entity's `afterPull` hook what a committed page applied; its errors never stop sync. */
async function afterPull(ctx: EngineContext, entity: EntityDescriptor, changes: Omit<PulledChanges, 'entity'>): Promise<void> {
  const hook = ctx.options.hooks?.[entity.name]?.afterPull;
  if (!hook || changes.created.length + changes.updated.length + changes.deleted.length === 0) return;
  try {
    await hook({ entity: entity.name, ...changes });
  } catch (error) {
    const report = ctx.options.onHookError ?? ((e: unknown) => console.warn(`afterPull hook of ${entity.name} failed:`, e));
    report(error, { entity: entity.name, hook: 'afterPull' });
  }
}
