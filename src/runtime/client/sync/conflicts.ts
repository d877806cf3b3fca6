/**
 * Conflicts on the device: the `conflicts` rows settle() records, listing them,
 * the user's resolution, and the operations the engine gave up on.
 */
import { Q } from '@nozbe/watermelondb';

import { SyncErrorCode } from '../../../contract/errors.js';

import { isTombstone, wireToRaw } from '../codec.js';
import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import { newId } from '../ids.js';
import { RUNTIME_TABLES, type ConflictRecord, type OperationRecord } from '../tables.js';
import type { SyncResultItem } from '../transport.js';
import { planApply } from './apply-remote.js';
import type { EngineContext } from './context.js';
import { findLocal } from './ids.js';
import { conflictServerVersion } from './push-outcome.js';
import {
  isGivenUp,
  isObject,
  parseJson,
  raw,
  type AnyModel,
  type ConflictDecision,
  type ConflictInfo,
  type ConflictResolution,
} from './types.js';

export function prepareConflictRow(
  ctx: EngineContext,
  entity: EntityDescriptor,
  op: OperationRecord,
  item: WireItem,
  result: SyncResultItem,
  resolution: ConflictDecision,
  resolved: boolean,
): ConflictRecord {
  const conflict = result.conflict ?? {};
  const serverData = conflict.serverData ?? null;
  const now = Date.now();
  const serverVersion = conflictServerVersion(result.conflict);
  const serverDeleted = isObject(serverData) && isTombstone(serverData);
  return ctx.database.get<ConflictRecord>(RUNTIME_TABLES.conflicts).prepareCreate((c) => {
    c._raw.id = newId();
    c._setRaw('entity', entity.name);
    c._setRaw('entity_id', op.entityId);
    c._setRaw('operation', op.operation);
    c._setRaw('local_data', JSON.stringify(item));
    c._setRaw('server_data', serverData === null ? null : JSON.stringify(serverData));
    c._setRaw(
      'suggested_data',
      conflict.resolutionSuggested === undefined || conflict.resolutionSuggested === null
        ? null
        : JSON.stringify(conflict.resolutionSuggested),
    );
    c._setRaw('local_version', typeof item.version === 'number' ? item.version : null);
    c._setRaw('server_version', serverVersion);
    c._setRaw(
      'conflict_type',
      result.errorCode === SyncErrorCode.DELETE_RESTRICTED
        ? 'delete_restricted'
        : serverDeleted
          ? 'deleted_on_server'
          : op.operation === 'delete'
            ? 'delete_update'
            : 'version_mismatch',
    );
    c._setRaw('resolved', resolved);
    c._setRaw('resolution', resolved ? resolution : null);
    c._setRaw('created_at', now);
    c._setRaw('resolved_at', resolved ? now : null);
  });
}

/** Operations the engine stopped sending (see `maxItemAttempts`), oldest first. */
export async function givenUp(ctx: EngineContext, entity?: string): Promise<OperationRecord[]> {
  return (await ctx.queue.open(entity)).filter(isGivenUp);
}

/** Makes given-up operations eligible again (attempts restart at 0); they go with the next sync. */
export async function retryGivenUp(ctx: EngineContext, entity?: string): Promise<number> {
  const ops = await givenUp(ctx, entity);
  if (ops.length === 0) return 0;
  await ctx.database.write(async () => {
    await ctx.database.batch(
      ...ops.map((op) => ctx.queue.prepareRestart(op)),
    );
  }, 'trackhub:retryGivenUp');
  return ops.length;
}

export async function listConflicts(ctx: EngineContext, filter: { entity?: string; resolved?: boolean } = {}): Promise<ConflictInfo[]> {
  const clauses = [];
  if (filter.entity) clauses.push(Q.where('entity', filter.entity));
  if (filter.resolved !== undefined) clauses.push(Q.where('resolved', filter.resolved));
  const rows = await ctx.database
    .get<ConflictRecord>(RUNTIME_TABLES.conflicts)
    .query(...clauses)
    .fetch();
  return rows
    .map((row) => {
      const get = (c: string): unknown => raw(row, c);
      return {
        id: row.id,
        entity: get('entity') as string,
        entityId: get('entity_id') as string,
        operation: (get('operation') as string | null) ?? null,
        conflictType: get('conflict_type') as string,
        localData: parseJson(get('local_data')) as WireItem | null,
        serverData: parseJson(get('server_data')) as WireItem | null,
        suggestedData: parseJson(get('suggested_data')),
        localVersion: (get('local_version') as number | null) ?? null,
        serverVersion: (get('server_version') as number | null) ?? null,
        resolved: get('resolved') === true,
        resolution: (get('resolution') as string | null) ?? null,
        createdAt: new Date(get('created_at') as number),
        resolvedAt: typeof get('resolved_at') === 'number' ? new Date(get('resolved_at') as number) : null,
      };
    })
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

/**
 * Settles a conflict left for the user: `server` adopts the server's data,
 * `local` keeps the device's change and pushes it over the server version,
 * `{ data }` (wire-shaped fields) writes a merged result and pushes it.
 */
export async function resolveConflict(ctx: EngineContext, conflictId: string, resolution: ConflictResolution): Promise<void> {
  const conflicts = ctx.database.get<ConflictRecord>(RUNTIME_TABLES.conflicts);
  await ctx.database.write(async () => {
    const row = await conflicts.find(conflictId);
    if (row.resolved) return;
    const entity = ctx.entity(row.entity);
    const serverData = parseJson(raw(row, 'server_data'));
    const serverVersion =
      (raw(row, 'server_version') as number | null) ??
      (isObject(serverData) && typeof serverData.version === 'number' ? serverData.version : null);
    const ops = await ctx.queue.open(entity.name, [row.entityId]);
    const records = await findLocal(ctx, entity, [row.entityId]);
    const record = records.get(row.entityId) ?? null;
    const now = Date.now();
    const label = resolution === 'server' || resolution === 'local' ? resolution : 'merge';
    const prepared: AnyModel[] = [];
    if (resolution === 'server') {
      const adopt = isObject(serverData) ? await planApply(ctx, entity, [serverData], { force: true }) : null;
      prepared.push(...ops.map((op) => op.prepareDestroyPermanently()));
      if (adopt) prepared.push(...adopt.prepare());
    } else {
      const data = resolution === 'local' ? null : resolution.data;
      const [first, ...rest] = ops;
      prepared.push(...rest.map((op) => op.prepareDestroyPermanently()));
      if (first) {
        let payload: Record<string, unknown> | null = null;
        if (data) {
          payload = { ...first.payload };
          for (const field of entity.fields)
            if (field.name in data && field.access !== 'readonly') payload[field.name] = data[field.name];
        }
        prepared.push(ctx.queue.prepareResolved(first, payload, now));
      }
      if (record) {
        prepared.push(
          record.prepareUpdate((r) => {
            if (serverVersion !== null) r._setRaw(SYNC_COLUMNS.version, serverVersion);
            if (data) {
              for (const field of entity.fields)
                if (field.name in data && field.access !== 'readonly')
                  r._setRaw(field.column, wireToRaw(field, data[field.name]));
              r._setRaw(SYNC_COLUMNS.deletedAt, null);
            }
          }),
        );
      }
    }
    prepared.push(
      row.prepareUpdate((c) => {
        c._setRaw('resolved', true);
        c._setRaw('resolution', label);
        c._setRaw('resolved_at', now);
      }),
    );
    await ctx.database.batch(...prepared);
  }, 'trackhub:resolveConflict');
}
