/**
 * syncPull: one page of one entity's stream, oldest first in (updatedAt, id) order,
 * tombstones included, tenant-scoped, and limited by the read rules (access.ts).
 *
 * Streams: the tenant-wide stream of an entity, or, for an entity synced by scope, the
 * stream of one scope root (`scope`: the root's server id; scopes.ts). A cursor
 * remembers which stream it belongs to and the read rules' fingerprint it was issued
 * under:
 *
 * - a row that left the stream's selection since the cursor comes back as a removal:
 *   an incremental page of a stream with read rules reads the window without them and
 *   sends what they now exclude as removals; rows that moved to another scope root are
 *   read from the move log (scopes.ts);
 * - a root the caller can no longer read (deleted, revoked, foreign, made up) answers
 *   `scopeRevoked` and nothing else;
 * - a fingerprint that changed answers from the beginning with `reset`: the device
 *   drops what it does not receive again.
 */
import { SYNC_PULL_SCOPE_ARG } from '../../contract/scopes.js';
import { SCOPE_MOVE_DELEGATE } from '../sync-clock-model.js';
import { accessOf, bindAccess, readScope } from './access.js';
import type { Principal } from './auth.js';
import { serializeRecord, type WireRecord } from './codec.js';
import { afterPosition, beforeStamp, comparePositions, decodePullCursor, encodePullCursor, idFits, NULL_UPDATED_AT, pullOrder, stampOf, type PullPosition } from './cursor.js';
import type { EntityDescriptor } from './descriptor.js';
import { SyncErrorCode, TrackhubError } from './errors.js';
import { afterPull } from './hooks.js';
import { parseServerId, wireId, type ServerId } from './ids.js';
import { delegateOf, type PrismaLike, type Row } from './prisma.js';
import type { EntityRegistry } from './registry.js';
import { scopeWhere } from './scopes.js';
import { syncScope, type SyncClock } from './sync-clock.js';
import { liveScope, tenantScope } from './store.js';

export interface SyncPullArgs {
  since?: Date | null;
  limit?: number | null;
  cursor?: string | null;
  /** Partial sync: the server id of the scope root whose stream to read. */
  scope?: string | null;
}

export interface SyncPullResult {
  items: WireRecord[];
  /** A watermark safe to send back as `since`: nothing after it was skipped. */
  lastSyncAt: Date;
  hasMore: boolean;
  /** Exact position after this page; send it back as `cursor` to continue. */
  cursor: string;
  /** Records that left this stream's selection since the cursor: the device drops them. */
  removals: Array<{ id: string; clientId: string | null }>;
  /** The scope root is not (or no longer) readable by the caller. */
  scopeRevoked: boolean;
  /** The read rules changed since the cursor: this pass starts from the beginning. */
  reset: boolean;
}

export interface PullContext {
  prisma: PrismaLike;
  registry: EntityRegistry;
  clock: SyncClock;
  maxPullLimit: number;
  /**
   * How long a caught-up stream answers from the sync clock alone before a pull reads its
   * table again, in ms (0: every pull reads it). Writes that bypass the runtime are not
   * stamped on the clock: this is how long they may wait before devices that are caught up get them.
   */
  recheckMs: number;
  /** The server's wall clock, epoch ms (when a stream's table was last read). */
  now: () => number;
}

const ms = stampOf;

/**
 * - `limit` is a hard cap on the page size.
 * - `cursor` (our addition) is exact: send back the returned `cursor` and no row is
 *   skipped or repeated, even when more than `limit` rows share one updatedAt.
 * - `lastSyncAt` is a watermark safe to send back as `since` (the seed's signature): it
 *   never passes a row that was not delivered. Without a cursor, a page does not end in
 *   the middle of a group of rows sharing one updatedAt when it can end before it, so
 *   since-only clients get no repeats either; a single updatedAt shared by more than
 *   `limit` rows needs the cursor (`lastSyncAt` stays just before it: repeat, never skip).
 */
export async function pullPage(ctx: PullContext, caller: Principal, entity: string, args: SyncPullArgs = {}): Promise<SyncPullResult> {
  const d = ctx.registry.get(entity);
  const limit = args.limit ?? ctx.maxPullLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > ctx.maxPullLimit) {
    throw new TrackhubError(SyncErrorCode.INVALID_LIMIT, `limit must be an integer between 1 and ${ctx.maxPullLimit}, got ${String(limit)}`);
  }
  const scopeArg = args.scope ?? null;
  if (scopeArg !== null && !d.scope) {
    const scoped = ctx.registry.descriptors.filter((x) => x.scope).map((x) => x.name).sort();
    throw new TrackhubError(
      SyncErrorCode.INVALID_SCOPE,
      `${d.name} is not synced by scope, so syncPull takes no ${SYNC_PULL_SCOPE_ARG} for it` +
        (scoped.length ? ` (entities synced by scope: ${scoped.join(', ')})` : ' (no entity is synced by scope)'),
      { scopedEntities: scoped },
    );
  }
  const root = scopeArg !== null && d.scope ? ctx.registry.get(d.scope.root) : null;
  // Read before the rows: every write that commits after this read stamps above it. Asked
  // for now, before the read rules are looked up, so that the watermarks of all the streams
  // of one request (rules or not) are read together (SyncClock.watermark).
  const before = ctx.clock.localHorizon(d, caller);
  const watermarkRead = ctx.clock.watermark(ctx.prisma, d, caller);
  watermarkRead.catch(() => undefined); // awaited below, unless the pull fails first
  const principal = await bindAccess(ctx.registry, ctx.prisma, caller, root ? [d, root] : [d]);
  // A scope's stream checks its root on its own (below), so it applies the rules under the root.
  const access = root ? accessOf(d, principal).withinScope : accessOf(d, principal);

  const decoded = args.cursor ? decodePullCursor(args.cursor) : null;
  if (decoded && decoded.scope !== scopeArg) throw new TrackhubError(SyncErrorCode.INVALID_CURSOR, 'Invalid cursor: it belongs to another scope of this entity');
  let start: PullPosition | null = decoded ?? (args.since ? { updatedAt: args.since.getTime(), id: null } : null);
  if (start && !idFits(d.idKind, start.id)) throw new TrackhubError(SyncErrorCode.INVALID_CURSOR, 'Invalid cursor: pass back a cursor this server returned for this entity');
  // Before the null rows' place: from the beginning (a since-only client that stopped inside them).
  if (start && d.updatedAtNullable && start.updatedAt < NULL_UPDATED_AT) start = null;
  // The rules changed under the cursor: the pass starts over and the device reconciles.
  const reset = decoded !== null && decoded.fingerprint !== access.fingerprint;
  if (reset) start = null;
  const checkedAt = ctx.now();
  const stream = { fingerprint: access.fingerprint, scope: scopeArg, checkedAt };

  let scopeFilter: Row | null = null;
  if (root && d.scope) {
    const rootId = parseServerId(root.idKind, scopeArg!);
    const readable =
      rootId !== undefined &&
      (await delegateOf(ctx.prisma, root.delegate).findFirst({ where: { AND: [readScope(root, principal), liveScope(root), { id: rootId }] }, select: { id: true } })) !== null &&
      (await (root.hooks?.subscribe?.(scopeArg!, { principal, entity: root.name, prisma: ctx.prisma }) ?? true));
    if (!readable) {
      return {
        items: [],
        lastSyncAt: new Date(start?.updatedAt ?? NULL_UPDATED_AT),
        hasMore: false,
        cursor: args.cursor ?? encodePullCursor(start ?? { updatedAt: NULL_UPDATED_AT, id: null }, stream),
        removals: [],
        scopeRevoked: true,
        reset: false,
      };
    }
    scopeFilter = scopeWhere(d.scope, rootId);
  }

  const delegate = delegateOf(ctx.prisma, d.delegate);
  const nullable = Boolean(d.updatedAtNullable);
  let watermark = await watermarkRead;
  const below = Number.isFinite(before) ? [beforeStamp(before, nullable)] : [];
  // From the beginning the device holds nothing of the stream: the rules filter in the query.
  // After a cursor, the window is read without them, and what they exclude goes out as removals.
  const splitByRules = access.where !== null && start !== null;

  // Nothing was committed through the runtime after the position (the scope's watermark is at
  // or before it): the page is empty without reading the table, which is what most pulls of
  // most entities find. Until `recheckMs` after the cursor's last read of the table: writes that
  // bypassed the runtime show up then. (A scope root's stream reads its move log: it always reads.)
  const capped = watermark !== null && Number.isFinite(before) && watermark >= before ? before - 1 : watermark;
  const lastRead = decoded && !reset ? decoded.checkedAt : null;
  const nothingNew =
    !scopeFilter &&
    start !== null &&
    capped !== null &&
    lastRead !== null &&
    checkedAt - lastRead >= 0 &&
    checkedAt - lastRead < ctx.recheckMs &&
    comparePositions(start, { updatedAt: capped, id: null }) >= 0;
  if (nothingNew) stream.checkedAt = lastRead;

  let rows = nothingNew
    ? []
    : await delegate.findMany({
        where: {
          AND: [
            tenantScope(d, principal),
            ...(scopeFilter ? [scopeFilter] : []),
            ...(access.where && !splitByRules ? [access.where] : []),
            ...below,
            ...(start ? [afterPosition(start, nullable)] : []),
          ],
        },
        orderBy: pullOrder(nullable),
        take: limit + 1,
      });
  // The scope has never been stamped (no write since the clock came in): stamp it now, so
  // that the next pulls of this stream need no query while nothing changes. This page does
  // not depend on it: should it fail, the next pull reads the table again and tries again.
  if (watermark === null) await ctx.clock.open(d, principal).catch(() => undefined);
  // A write of this process that began meanwhile may show through a shared connection (SQLite).
  const horizon = Math.min(before, ctx.clock.localHorizon(d, principal));
  if (Number.isFinite(horizon)) rows = rows.filter((row) => ms(row) < horizon);
  if (watermark !== null && watermark >= horizon) watermark = horizon - 1;
  let page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  let next: Row | undefined = rows[limit];

  if (hasMore && !args.cursor && next && ms(next) === ms(page[page.length - 1])) {
    const groupAt = ms(next);
    let k = page.length;
    while (k > 0 && ms(page[k - 1]) === groupAt) k--;
    if (k > 0) {
      next = page[k];
      page = page.slice(0, k);
    }
  }

  let end: PullPosition;
  if (hasMore) {
    const last = page[page.length - 1];
    end = { updatedAt: ms(last), id: last.id as ServerId };
  } else {
    // Every visible row after `start` was delivered, so every stamp up to the last one
    // delivered, or up to the watermark, is complete: later commits stamp above both.
    const lastAt = page.length ? ms(page[page.length - 1]) : 0;
    end = { updatedAt: Math.max(lastAt, watermark ?? 0), id: null };
    if (start && comparePositions(start, end) > 0) end = start;
  }
  const lastSyncAt = end.id === null || (hasMore && next !== undefined && ms(next) !== end.updatedAt) ? end.updatedAt : end.updatedAt - 1;

  const removals = new Map<string, { id: string; clientId: string | null }>();
  if (splitByRules && page.length) {
    const readable = new Set(
      (await delegate.findMany({ where: { AND: [access.where!, { id: { in: page.map((r) => r.id) } }] }, select: { id: true } })).map((r) => String(r.id)),
    );
    const kept: Row[] = [];
    for (const row of page) {
      if (readable.has(String(row.id))) kept.push(row);
      else removals.set(String(row.id), { id: wireId(row.id)!, clientId: (row.clientId as string | null) ?? null });
    }
    page = kept;
  }
  if (scopeFilter && start) {
    for (const r of await movedOut(ctx, d, principal, scopeArg!, scopeFilter, start.updatedAt, end.updatedAt, horizon)) removals.set(r.id, r);
  }

  return {
    items: await afterPull(d.hooks, page.map((row) => serializeRecord(d, row)), { principal, entity: d.name }),
    lastSyncAt: new Date(lastSyncAt),
    hasMore,
    cursor: encodePullCursor(end, stream),
    removals: [...removals.values()],
    scopeRevoked: false,
    reset,
  };
}

/**
 * Rows logged as having left the root `rootId` with a stamp in [from, to] (repeats are
 * harmless, skips are not: the window includes both ends), except those back under it
 * now (they come as items).
 */
async function movedOut(
  ctx: PullContext,
  d: EntityDescriptor,
  principal: Principal,
  rootId: string,
  scopeFilter: Row,
  from: number,
  to: number,
  horizon: number,
): Promise<Array<{ id: string; clientId: string | null }>> {
  const upTo = Number.isFinite(horizon) ? Math.min(to, horizon - 1) : to;
  if (upTo < from) return [];
  const entries = await delegateOf(ctx.prisma, SCOPE_MOVE_DELEGATE).findMany({
    where: { scope: syncScope(d, principal), root: rootId, stamp: { gte: new Date(from), lte: new Date(upTo) } },
    select: { recordId: true, clientId: true },
  });
  if (entries.length === 0) return [];
  const ids = [...new Set(entries.map((e) => String(e.recordId)))];
  const keys = ids.map((id) => parseServerId(d.idKind, id)).filter((id): id is ServerId => id !== undefined);
  const back = new Set(
    (await delegateOf(ctx.prisma, d.delegate).findMany({ where: { AND: [readScope(d, principal), scopeFilter, { id: { in: keys } }] }, select: { id: true } })).map((r) =>
      String(r.id),
    ),
  );
  const out = new Map<string, { id: string; clientId: string | null }>();
  for (const e of entries) {
    const id = String(e.recordId);
    if (!back.has(id) && !out.has(id)) out.set(id, { id, clientId: (e.clientId as string | null) ?? null });
  }
  return [...out.values()];
}
