/**
 * The first page of every stream a pull phase reads, fetched in one request.
 *
 * A sync run pulls its streams one after another, parents first (pull.ts applies each
 * one before the next begins). Most runs of a device that is up to date find nothing
 * new, so most of their cost was one HTTP request per stream. Here the first page of
 * each stream is asked in one GraphQL document (`syncPullMany`, one aliased `syncPull`
 * field per stream, each answered as it would be alone); the streams then apply them
 * in the same order as before and fetch their further pages on their own.
 *
 * Nothing about crash safety changes: each stream still stores its position with its
 * last page. A page is only used from the position it was asked from (pull.ts checks).
 * When the server answers the combined request with any GraphQL error (an entity it
 * does not know, a cursor it refuses, a server that limits documents), nothing of it is
 * used: every stream asks for its own first page, so each error comes back from the
 * stream that causes it, as without this step. Network and authentication errors end
 * the phase as the first stream's request would have. Up to STREAMS_PER_REQUEST streams
 * go in one request.
 */
import type { EntityDescriptor } from '../descriptors.js';
import { AuthRequiredError, GraphQLRequestError } from '../transport.js';
import { syncState } from './apply-remote.js';
import type { EngineContext } from './context.js';
import { pageArgs, type FirstPage } from './page-reader.js';

/** A stream of an entity: its tenant-wide stream (scope null) or one scope root's. */
export interface StreamKey {
  entity: EntityDescriptor;
  scope: string | null;
}

/** Map key of a stream's first page. */
export function streamKey(entity: EntityDescriptor, scope: string | null): string {
  return scope === null ? entity.name : `${entity.name}\u0000${scope}`;
}

/**
 * Streams asked per request: a response holds up to this many full pages (`pullLimit`
 * items each), so a device with many scope subscriptions makes a few requests, not one
 * unbounded one.
 */
export const STREAMS_PER_REQUEST = 16;

/** The first pages of `streams` (two or more), by `streamKey`; empty when they are fetched one by one. */
export async function fetchFirstPages(ctx: EngineContext, streams: readonly StreamKey[]): Promise<Map<string, FirstPage>> {
  const out = new Map<string, FirstPage>();
  if (streams.length < 2) return out;
  const asked: Array<StreamKey & { since: string | null; cursor: string | null }> = [];
  for (const s of streams) {
    const state = await syncState(ctx, s.entity, s.scope);
    asked.push({ ...s, since: state?.lastSyncAt ?? null, cursor: state?.cursor ?? null });
  }
  for (let start = 0; start < asked.length; start += STREAMS_PER_REQUEST) {
    const part = asked.slice(start, start + STREAMS_PER_REQUEST);
    if (part.length < 2) break; // a single stream asks for its page itself
    let pages;
    try {
      pages = await ctx.transport.syncPullMany(part.map((a) => pageArgs(ctx, a.entity, a.scope, a.since, a.cursor)));
    } catch (error) {
      if (error instanceof GraphQLRequestError && !(error instanceof AuthRequiredError)) return out;
      throw error;
    }
    for (const [i, a] of part.entries()) out.set(streamKey(a.entity, a.scope), { since: a.since, cursor: a.cursor, page: pages[i]! });
  }
  return out;
}
