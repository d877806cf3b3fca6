/**
 * The pull phase over every stream (partial sync): a tenant-wide entity has one stream;
 * a scoped entity one per active subscription of its root. A revoked scope is evicted
 * at once; after the streams, subscriptions being removed finish their eviction, and
 * records that no subscription holds any more (moved away, or created outside the
 * subscribed scopes and now pushed) leave the device. Nothing with unsynced changes
 * leaves it (scopes.ts).
 */
import { Q } from '@nozbe/watermelondb';

import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import type { EngineContext } from './context.js';
import { fetchFirstPages, streamKey, type StreamKey } from './first-pages.js';
import type { KnownIds } from './ids.js';
import { openReader, PULL_AHEAD_ITEMS, type FirstPage, type PageReader } from './page-reader.js';
import { pullEntity } from './pull.js';
import { evictScope, finishRemovals, listSubscriptions, pendingUnder, scopedEntitiesOf, scopeRoots, walkDown } from './scopes.js';
import { raw, stringOrNull, type EntitySyncReport } from './types.js';

/**
 * Engines that may hold records no subscription holds: set by a push or a removal of a
 * scoped entity, cleared by a sweep; every engine starts with one (an app that stopped
 * after a push but before its sweep sweeps on its first full run).
 */
const sweepDone = new WeakSet<EngineContext>();

/** Pulls `entities` (parents first), every stream of each; `seen` collects server ids per entity (force modes). */
export async function pullStreams(
  ctx: EngineContext,
  entities: readonly EntityDescriptor[],
  reports: Map<string, EntitySyncReport>,
  seen?: Map<string, Set<string>>,
): Promise<void> {
  if (entities.some((e) => e.scope)) await resolveSubscriptions(ctx);
  // Set before the pulls: a run that pushed and then failed still sweeps on a later run.
  if (entities.some((e) => e.scope && reports.get(e.name)!.pushed > 0)) sweepDone.delete(ctx);
  const revoked = new Set<string>();
  const count = (evicted: Map<string, string[] | number>): void => {
    for (const [entity, n] of evicted) {
      const report = reports.get(entity);
      if (report) report.removed += typeof n === 'number' ? n : n.length;
    }
  };
  // The first page of every stream, in one request (first-pages.ts).
  const streams: StreamKey[] = [];
  for (const entity of entities) {
    if (!entity.scope) streams.push({ entity, scope: null });
    else for (const sub of await listSubscriptions(ctx, { root: entity.scope.root, status: 'active' })) if (sub.serverId) streams.push({ entity, scope: sub.serverId });
  }
  const first = await fetchFirstPages(ctx, streams);
  // Where this run's records went: relation look-ups of the streams after theirs read it.
  const known: KnownIds = new Map(entities.map((e) => [e.name, new Map<string, string>()]));
  const readers = new StreamReaders(ctx, streams, first);
  try {
    for (const entity of entities) {
      const report = reports.get(entity.name)!;
      const entitySeen = seen?.get(entity.name);
      if (!entity.scope) {
        await pullEntity(ctx, entity, report, entitySeen, null, await readers.take(entity, null), known);
        continue;
      }
      for (const sub of await listSubscriptions(ctx, { root: entity.scope.root, status: 'active' })) {
        if (!sub.serverId || revoked.has(sub.id)) continue; // a root created offline: nothing of it is on the server yet
        const stream = { scope: sub.serverId, rootLocalId: sub.recordId };
        const outcome = await pullEntity(ctx, entity, report, entitySeen, stream, await readers.take(entity, sub.serverId), known);
        if (!outcome.revoked) continue;
        revoked.add(sub.id);
        count((await evictScope(ctx, sub, 'revoke')).evicted);
      }
    }
  } finally {
    readers.stop();
  }
  if (!entities.some((e) => e.scope)) return;
  count(await finishRemovals(ctx));
  // Only a run over every entity knows each record's parents are where they should be.
  const all = entities.length === ctx.entities.length;
  if (revoked.size > 0 || entities.some((e) => e.scope && reports.get(e.name)!.removed > 0)) sweepDone.delete(ctx);
  if (all && !sweepDone.has(ctx)) {
    count(await sweepOrphans(ctx));
    sweepDone.add(ctx);
  }
}

/**
 * The readers of the phase's streams (page-reader.ts), in the order the streams were
 * listed. Once the reader of the stream being pulled has its last page, the next
 * stream's reader is opened, so its pages come while this stream applies its last ones;
 * when that one has its last page too (an empty or small stream), the one after it is
 * opened, as long as the readers opened ahead hold fewer than PULL_AHEAD_ITEMS items.
 * A stream taken out of that order (a subscription revoked or added meanwhile) gets a
 * reader of its own, and the readers opened ahead of it are stopped.
 */
class StreamReaders {
  /** Readers opened ahead, in stream order: index in `streams`, and the reader. */
  private ahead: Array<{ at: number; reader: Promise<PageReader> }> = [];
  /** Index in `streams` of the stream being pulled (-1: one out of that order). */
  private current = -1;
  private stopped = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly streams: readonly StreamKey[],
    private readonly first: Map<string, FirstPage>,
  ) {}

  async take(entity: EntityDescriptor, scope: string | null): Promise<PageReader> {
    const key = streamKey(entity, scope);
    const found = this.ahead.findIndex((a) => streamKey(this.streams[a.at]!.entity, this.streams[a.at]!.scope) === key);
    // Readers opened ahead of streams that were skipped are of no use.
    for (const dropped of this.ahead.splice(0, found < 0 ? this.ahead.length : found)) void dropped.reader.then((r) => r.stop(), () => undefined);
    const taken = found >= 0 ? this.ahead.shift()! : null;
    this.current = taken?.at ?? this.streams.findIndex((s) => streamKey(s.entity, s.scope) === key);
    if (!taken) return this.open(this.current, { entity, scope });
    // Opened ahead, it may have finished while readers ahead held enough: try again now.
    this.chain(taken.at, taken.reader);
    return taken.reader;
  }

  /** Stops the readers opened ahead, and opens no more. */
  stop(): void {
    this.stopped = true;
    for (const dropped of this.ahead.splice(0)) void dropped.reader.then((r) => r.stop(), () => undefined);
  }

  private open(at: number, stream: StreamKey): Promise<PageReader> {
    const opening = openReader(this.ctx, stream.entity, stream.scope, this.first.get(streamKey(stream.entity, stream.scope)));
    // Its error reaches the stream that takes it; one dropped unused is of no consequence.
    opening.catch(() => undefined);
    this.chain(at, opening);
    return opening;
  }

  /** Once the reader of the stream at `at` finishes, the next stream's reader may open. */
  private chain(at: number, opening: Promise<PageReader>): void {
    if (at >= 0) void opening.then((reader) => reader.finished.then(() => this.openAfter(at, reader)), () => undefined);
  }

  /** Opens the reader of the stream after `at`, whose reader has just finished. */
  private async openAfter(at: number, reader: PageReader): Promise<void> {
    const next = this.streams[at + 1];
    // Only after the stream being pulled, or after the last reader opened ahead.
    if (!next || !reader.complete || !this.endsAt(at)) return;
    let held = 0;
    for (const a of this.ahead) held += (await a.reader.catch(() => null))?.buffered ?? 0;
    // Checked again: a stream may have been taken meanwhile.
    if (held >= PULL_AHEAD_ITEMS || !this.endsAt(at)) return;
    this.ahead.push({ at: at + 1, reader: this.open(at + 1, next) });
  }

  /** Whether the stream at `at` is the last one with a reader (being pulled, or opened ahead), and more may open. */
  private endsAt(at: number): boolean {
    const last = this.ahead[this.ahead.length - 1];
    return !this.stopped && (last ? last.at : this.current) === at;
  }
}

/** Subscriptions to roots created offline learn the root's server id once it has one. */
async function resolveSubscriptions(ctx: EngineContext): Promise<void> {
  const waiting = (await listSubscriptions(ctx)).filter((s) => !s.serverId);
  if (waiting.length === 0) return;
  await ctx.database.write(async () => {
    const updates = [];
    for (const sub of waiting) {
      if (!ctx.hasEntity(sub.entity)) continue;
      const [root] = await ctx.collection(ctx.entity(sub.entity)).query(Q.where('id', sub.recordId)).fetch();
      const serverId = root ? stringOrNull(raw(root, SYNC_COLUMNS.serverId)) : null;
      if (serverId) updates.push(sub.prepareUpdate((s) => s._setRaw('server_id', serverId)));
    }
    if (updates.length) await ctx.database.batch(...updates);
  }, 'trackhub:resolveSubscriptions');
}

/**
 * Records of scoped entities under no active subscription (and with no unsynced
 * change, nor one below them), destroyed in one writer. Resolves with counts per entity.
 */
export async function sweepOrphans(ctx: EngineContext): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await ctx.database.write(async () => {
    const destroy = [];
    for (const root of scopeRoots(ctx.entities)) {
      const active = (await listSubscriptions(ctx, { root })).filter((s) => s.status === 'active').map((s) => s.recordId);
      for (const scoped of [...scopedEntitiesOf(ctx.entities, root)].reverse()) {
        const held = new Set(active.length ? (await walkDown(ctx, scoped, scoped.scope!.hops.length, active))[0]!.rows.keys() : []);
        const rows = (await ctx.collection(scoped).query().fetch()).filter((r) => !held.has(r.id));
        if (rows.length === 0) continue;
        const pending = await pendingUnder(ctx, scoped, rows.map((r) => r.id));
        const gone = rows.filter((r) => !pending.has(r.id));
        if (gone.length) out.set(scoped.name, gone.length);
        destroy.push(...gone.map((r) => r.prepareDestroyPermanently()));
      }
    }
    if (destroy.length) await ctx.database.batch(...destroy);
  }, 'trackhub:sweepOrphans');
  return out;
}
