/**
 * The force modes: forceSyncFromServer (reset the cursor or discard local state,
 * pull everything, remove what the server no longer has) and forcePushLocal
 * (queue every local record).
 */
import { Q } from '@nozbe/watermelondb';

import { rawToWire } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import { syncStates } from './apply-remote.js';
import type { EngineContext } from './context.js';
import { raw, stringOrNull, type AnyModel, type EntitySyncReport } from './types.js';

export async function discardLocal(ctx: EngineContext, entity: EntityDescriptor): Promise<void> {
  await ctx.database.write(async () => {
    const ops = await ctx.queue.collection.query(Q.where('entity', entity.name)).fetch();
    const localOnly = await ctx.collection(entity).query(Q.where(SYNC_COLUMNS.serverId, null)).fetch();
    const states = await syncStates(ctx, entity);
    await ctx.database.batch(
      ...ops.map((op) => op.prepareDestroyPermanently()),
      ...localOnly.map((r) => r.prepareDestroyPermanently()),
      ...states.map((state) => state.prepareDestroyPermanently()),
    );
  }, 'trackhub:discardLocal');
}

/** Forgets every pull position of the entity (its tenant-wide stream, or all its scope streams). */
export async function resetCursor(ctx: EngineContext, entity: EntityDescriptor): Promise<void> {
  const states = await syncStates(ctx, entity);
  if (states.length === 0) return;
  await ctx.database.write(async () => {
    await ctx.database.batch(...states.map((state) => state.prepareDestroyPermanently()));
  }, 'trackhub:resetCursor');
}

/** Removes records the server did not send in a full pull (records with a waiting operation stay). */
export async function removeUnseen(ctx: EngineContext, entity: EntityDescriptor, seen: Set<string>, report: EntitySyncReport): Promise<void> {
  await ctx.database.write(async () => {
    const all = await ctx.collection(entity).query().fetch();
    const waiting = await ctx.queue.recordsWithOpenOps(entity.name);
    const gone = all.filter((r) => {
      const sid = stringOrNull(raw(r, SYNC_COLUMNS.serverId));
      return sid !== null && !seen.has(sid) && !waiting.has(r.id);
    });
    report.deleted += gone.length;
    await ctx.database.batch(...gone.map((r) => r.prepareDestroyPermanently()));
  }, 'trackhub:removeUnseen');
}

export async function queueEverything(ctx: EngineContext, entity: EntityDescriptor): Promise<void> {
  await ctx.database.write(async () => {
    const records = await ctx.collection(entity).query().fetch();
    const waiting = await ctx.queue.recordsWithOpenOps(entity.name);
    const prepared: AnyModel[] = [];
    const now = Date.now();
    for (const record of records) {
      if (waiting.has(record.id)) continue;
      const deleted =
        raw(record, SYNC_COLUMNS.deletedAt) !== null && raw(record, SYNC_COLUMNS.deletedAt) !== undefined;
      const serverId = stringOrNull(raw(record, SYNC_COLUMNS.serverId));
      const payload: Record<string, unknown> = {};
      if (!deleted)
        for (const field of entity.fields) payload[field.name] = rawToWire(field, raw(record, field.column));
      const operation = deleted ? 'delete' : serverId ? 'update' : 'insert';
      prepared.push(
        ...ctx.queue.prepare(
          {
            change: { entity: entity.name, entityId: record.id, operation, payload },
            decision: { kind: 'append' },
            target: null,
          },
          now,
        ),
      );
    }
    await ctx.database.batch(...prepared);
  }, 'trackhub:queueEverything');
}
