/**
 * Records leaving a stream (partial sync, read rules): the server's removals, and what
 * a reset pass did not deliver again. Both leave alone a record with unsynced changes,
 * and a record above one on a scope path (scopes.ts, `pendingUnder`).
 */
import { Q } from '@nozbe/watermelondb';

import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import type { SyncRemoval } from '../transport.js';
import type { EngineContext } from './context.js';
import { pendingUnder, rowsUnderRoot, type PullStream } from './scopes.js';
import { chunks, raw, stringOrNull, type AnyModel } from './types.js';

/**
 * Destroys the local copies of `removals` (found by server id, else client id) in one
 * batch; call inside a writer. Records with unsynced changes are kept and counted.
 */
export async function applyRemovals(ctx: EngineContext, entity: EntityDescriptor, removals: readonly SyncRemoval[]): Promise<{ ids: string[]; kept: number }> {
  const found = new Map<string, AnyModel>();
  const serverIds = [...new Set(removals.map((r) => r.id))];
  const clientIds = [...new Set(removals.flatMap((r) => (r.clientId ? [r.clientId] : [])))];
  for (const chunk of chunks(serverIds, 500))
    for (const record of await ctx.collection(entity).query(Q.where(SYNC_COLUMNS.serverId, Q.oneOf(chunk))).fetch()) found.set(record.id, record);
  for (const chunk of chunks(clientIds, 500))
    for (const record of await ctx.collection(entity).query(Q.where(SYNC_COLUMNS.clientId, Q.oneOf(chunk))).fetch()) {
      // A client id names the record only while the device does not know its server id (or knows the same one).
      const sid = stringOrNull(raw(record, SYNC_COLUMNS.serverId));
      if (sid === null || serverIds.includes(sid)) found.set(record.id, record);
    }
  if (found.size === 0) return { ids: [], kept: 0 };
  const pending = await pendingUnder(ctx, entity, [...found.keys()]);
  const gone = [...found.values()].filter((r) => !pending.has(r.id));
  if (gone.length) await ctx.database.batch(...gone.map((r) => r.prepareDestroyPermanently()));
  return { ids: gone.map((r) => r.id), kept: pending.size };
}

/**
 * After a reset pass: the stream's records the pass did not deliver (`seen`: server ids),
 * that the server knows (a server id) and that have no unsynced changes.
 */
export async function unseenInStream(ctx: EngineContext, entity: EntityDescriptor, stream: PullStream | null, seen: ReadonlySet<string>): Promise<AnyModel[]> {
  const rows = stream ? await rowsUnderRoot(ctx, entity, stream.rootLocalId) : await ctx.collection(entity).query().fetch();
  const candidates = rows.filter((r) => {
    const sid = stringOrNull(raw(r, SYNC_COLUMNS.serverId));
    return sid !== null && !seen.has(sid);
  });
  if (candidates.length === 0) return [];
  const pending = await pendingUnder(ctx, entity, candidates.map((r) => r.id));
  return candidates.filter((r) => !pending.has(r.id));
}
