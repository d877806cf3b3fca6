/**
 * Id translation between the device and the server: local records by local id,
 * foreign keys from local ids to server ids (push) and back (pull).
 */
import { Q } from '@nozbe/watermelondb';

import type { WireItem } from '../codec.js';
import type { EntityDescriptor, FieldDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import type { EngineContext } from './context.js';
import { chunks, raw, stringOrNull, type AnyModel } from './types.js';

/** Local records by local id. */
export async function findLocal(ctx: EngineContext, entity: EntityDescriptor, ids: string[]): Promise<Map<string, AnyModel>> {
  const out = new Map<string, AnyModel>();
  const unique = [...new Set(ids)];
  for (const chunk of chunks(unique, 500)) {
    for (const record of await ctx.collection(entity)
      .query(Q.where('id', Q.oneOf(chunk)))
      .fetch())
      out.set(record.id, record);
  }
  return out;
}

/**
 * Whether the entity's table holds no row at all (whatever its status). Call it
 * inside a writer, so no row can appear before the caller's batch. On SQLite it is
 * one `limit 1` query; an adapter without SQL (LokiJS in the browser) counts the
 * live rows and asks for the locally deleted ones (no SQL, so nothing is logged).
 */
export async function tableIsEmpty(ctx: EngineContext, entity: EntityDescriptor): Promise<boolean> {
  const adapter = ctx.database.adapter;
  if (isSqlAdapter(adapter.underlyingAdapter)) {
    const rows = await ctx.collection(entity)
      .query(Q.unsafeSqlQuery(`select id from "${entity.table}" limit 1`))
      .unsafeFetchRaw();
    return rows.length === 0;
  }
  if ((await ctx.collection(entity).query().fetchCount()) > 0) return false;
  return (await adapter.getDeletedRecords(entity.table)).length === 0;
}

export function relationFields(ctx: EngineContext, entity: EntityDescriptor): FieldDescriptor[] {
  return entity.fields.filter((f) => f.relation && ctx.hasEntity(f.relation));
}

/** For push: referenced entity -> (local id -> server id, else client id). */
export async function localToRemoteIds(
  ctx: EngineContext,
  entity: EntityDescriptor,
  payloads: Record<string, unknown>[],
): Promise<Map<string, Map<string, string>>> {
  const maps = new Map<string, Map<string, string>>();
  for (const field of relationFields(ctx, entity)) {
    const target = ctx.entity(field.relation!);
    const ids = payloads.map((p) => p[field.name]).filter((v): v is string => typeof v === 'string');
    const map = maps.get(target.name) ?? new Map<string, string>();
    for (const [id, record] of await findLocal(ctx, target, ids)) {
      map.set(
        id,
        stringOrNull(raw(record, SYNC_COLUMNS.serverId)) ?? stringOrNull(raw(record, SYNC_COLUMNS.clientId)) ?? id,
      );
    }
    maps.set(target.name, map);
  }
  return maps;
}

/**
 * Server id -> local id of the records one sync run has applied, per entity (model name):
 * relation look-ups of later pages and streams of the run (a child entity's stream after
 * its parent's, an initial pull) find their targets here instead of querying. A record's
 * local id never changes, and is the same whenever the record is written again (its
 * client id, else its server id), so an entry stays right for the whole run: should the
 * record leave the device meanwhile, the foreign key names its local id, as it would once
 * the record is pulled again (a query would leave the server id there, as dangling).
 * The pull also reads it to tell a record it has not applied yet (pull.ts).
 */
export type KnownIds = Map<string, Map<string, string>>;

/** For pull: referenced entity -> (server id -> local id), from `known` where it has the id, else queried. */
export async function remoteToLocalIds(
  ctx: EngineContext,
  entity: EntityDescriptor,
  items: WireItem[],
  known?: KnownIds,
): Promise<Map<string, Map<string, string>>> {
  const maps = new Map<string, Map<string, string>>();
  for (const field of relationFields(ctx, entity)) {
    const target = ctx.entity(field.relation!);
    const map = maps.get(target.name) ?? new Map<string, string>();
    const knownIds = known?.get(target.name);
    const ids: string[] = [];
    for (const item of items) {
      const id = item[field.name];
      if (typeof id !== 'string' || map.has(id)) continue;
      const local = knownIds?.get(id);
      if (local !== undefined) map.set(id, local);
      else ids.push(id);
    }
    for (const chunk of chunks([...new Set(ids)], 500)) {
      // Raw rows: only two columns are needed, no Model objects.
      const rows = (await ctx.collection(target)
        .query(Q.where(SYNC_COLUMNS.serverId, Q.oneOf(chunk)))
        .unsafeFetchRaw()) as Record<string, unknown>[];
      for (const row of rows) map.set(row[SYNC_COLUMNS.serverId] as string, row.id as string);
    }
    maps.set(target.name, map);
  }
  return maps;
}

/** WatermelonDB's SQLite adapter (Node, React Native) runs `Q.unsafeSqlQuery` and `unsafeExecute({ sqls })`; LokiJS does not. */
export function isSqlAdapter(adapter: unknown): boolean {
  return typeof adapter === 'object' && adapter !== null && '_dispatcherType' in adapter;
}
