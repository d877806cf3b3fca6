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
import { pendingUnder, rootsOf, rowsUnderRoot, type PullStream } from './scopes.js';
import { chunks, raw, stringOrNull, type AnyModel } from './types.js';

/**
 * Destroys the local copies of `removals` (found by server id, else client id) in one
 * batch; call inside a writer. Records with unsynced changes are kept and counted.
 * A removal from a scope root's stream leaves alone a record that, on this device, no
 * longer hangs under that root (a path that does not resolve counts as under it): it
 * moved to another subscribed scope, whose stream
 * brought it (or will remove it in turn).
 */
export async function applyRemovals(
  ctx: EngineContext,
  entity: EntityDescriptor,
  removals: readonly SyncRemoval[],
  stream: PullStream | null = null,
): Promise<{ ids: string[]; kept: number }> {
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
  if (stream && found.size > 0)
    for (const [id, root] of await rootsOf(ctx, entity, [...found.values()])) if (root !== null && root !== stream.rootLocalId) found.delete(id);
  if (found.size === 0) return { ids: [], kept: 0 };
  const pending = await pendingUnder(ctx, entity, [...found.keys()]);
  const gone = [...found.values()].filter((r) => !pending.has(r.id));
  if (gone.length) await ctx.database.batch(...gone.map((r) => r.prepareDestroyPermanently()));
  return { ids: gone.map((r) => r.id), kept: pending.size };
}

/**
 * After a reset pass: the stream's records the pass did not deliver (`seen`: server ids),
 * that the server knows (a server id): `gone`, those without unsynced changes, and
 * `kept`, how many were kept back because of them (scopes.ts, `pendingUnder`).
 */
export async function unseenInStream(
  ctx: EngineContext,
  entity: EntityDescriptor,
  stream: PullStream | null,
  seen: ReadonlySet<string>,
): Promise<{ gone: AnyModel[]; kept: number }> {
  const rows = stream ? await rowsUnderRoot(ctx, entity, stream.rootLocalId) : await ctx.collection(entity).query().fetch();
  const candidates = rows.filter((r) => {
    const sid = stringOrNull(raw(r, SYNC_COLUMNS.serverId));
    return sid !== null && !seen.has(sid);
  });
  if (candidates.length === 0) return { gone: [], kept: 0 };
  const pending = await pendingUnder(ctx, entity, candidates.map((r) => r.id));
  return { gone: candidates.filter((r) => !pending.has(r.id)), kept: pending.size };
}
