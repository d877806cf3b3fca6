/**
 * Applying server records to the device: pulled items, the server's copy adopted
 * after a conflict, an online call's answer. Upserts by server id / client id,
 * deletes on tombstones, never touches a record with a waiting local operation
 * (unless forced); plus the pull position per entity (sync_state).
 */
import { Q } from '@nozbe/watermelondb';

import { isTombstone, isoToMillis, wireToRaw } from '../codec.js';
import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import { newId } from '../ids.js';
import { RUNTIME_TABLES, type SyncStateRecord } from '../tables.js';
import { RECONCILE_MARK } from '../../../contract/scopes.js';
import type { EngineContext } from './context.js';
import { findLocal, localToRemoteIds, relationFields, remoteToLocalIds, tableIsEmpty, type KnownIds } from './ids.js';
import { insertStatements, type RowSource } from './raw-insert.js';
import { chunks, raw, stringOrNull, type AnyModel } from './types.js';
import type { PulledChanges } from '../hooks.js';

/** The pull position of one stream: the entity's tenant-wide one (`scope` null) or the one of a scope root (its server id). */
export async function syncState(ctx: EngineContext, entity: EntityDescriptor, scope: string | null = null): Promise<SyncStateRecord | null> {
  const rows = await ctx.database
    .get<SyncStateRecord>(RUNTIME_TABLES.syncState)
    .query(Q.where('entity', entity.name), ...(scope !== null || hasScopeColumn(ctx) ? [Q.where('scope', scope)] : []))
    .fetch();
  return rows[0] ?? null;
}

/** Whether the app's schema has `sync_state.scope` (a schema generated before partial sync has not; it has no scoped entity either). */
function hasScopeColumn(ctx: EngineContext): boolean {
  return 'scope' in (ctx.database.schema.tables[RUNTIME_TABLES.syncState]?.columns ?? {});
}

/** Every stream position of the entity (the tenant-wide one and / or one per scope). */
export async function syncStates(ctx: EngineContext, entity: EntityDescriptor): Promise<SyncStateRecord[]> {
  return ctx.database.get<SyncStateRecord>(RUNTIME_TABLES.syncState).query(Q.where('entity', entity.name)).fetch();
}

export function prepareSyncState(
  ctx: EngineContext,
  entity: EntityDescriptor,
  state: SyncStateRecord | null,
  lastSyncAt: string | null,
  cursor: string | null,
  scope: string | null = null,
  reconcile = false,
): AnyModel {
  const now = Date.now();
  if (state) {
    return state.prepareUpdate((s) => {
      s._setRaw('server_version_hash', reconcile ? RECONCILE_MARK : null);
      s._setRaw('last_sync_at', lastSyncAt);
      s._setRaw('cursor', cursor);
      s._setRaw('updated_at', now);
    });
  }
  return ctx.database.get<SyncStateRecord>(RUNTIME_TABLES.syncState).prepareCreate((s) => {
    s._raw.id = newId();
    s._setRaw('entity', entity.name);
    if (scope !== null || hasScopeColumn(ctx)) s._setRaw('scope', scope);
    if (reconcile) s._setRaw('server_version_hash', RECONCILE_MARK);
    s._setRaw('last_sync_at', lastSyncAt);
    s._setRaw('cursor', cursor);
    s._setRaw('updated_at', now);
  });
}

/**
 * Plans applying server items (pulled, or adopted after a conflict) to the
 * entity table. Asynchronous lookups happen here; `prepare()` must be
 * called right before `database.batch`.
 */
export async function planApply(
  ctx: EngineContext,
  entity: EntityDescriptor,
  items: WireItem[],
  options: {
    force?: boolean;
    ignoreOpIds?: Set<string>;
    /** New records go to `insertSqls()` (raw SQL, no Model) instead of `prepare()`: see raw-insert.ts. */
    rawCreates?: boolean;
    /** The caller knows no row of the table has these items' ids (skips the look-ups). */
    assumeNew?: boolean;
    /** Local ids of records this sync run already applied: relation targets found there are not queried. */
    known?: KnownIds;
  } = {},
): Promise<{
  prepare: () => AnyModel[];
  /** With `rawCreates`: the INSERTs of the new records (run them in the same writer, before or after `prepare()`'s batch). */
  insertSqls: () => [string, unknown[]][];
  /** Rows `insertSqls()` inserts. */
  inserted: number;
  keptLocal: number;
  deleted: number;
  changes: Omit<PulledChanges, 'entity'>;
  /** Records in `known` (for the entity, when `known` keeps it) where the applied items went; call once they are written. */
  remember: (known: KnownIds) => void;
}> {
  // Last item wins when a page repeats a record.
  const unique = new Map<string, WireItem>();
  for (const item of items) {
    const key = typeof item.id === 'string' ? item.id : stringOrNull(item.clientId);
    if (key) unique.set(key, item);
  }
  const list = [...unique.values()];
  const serverIds = list.map((i) => i.id).filter((v): v is string => typeof v === 'string');
  const candidateIds = list
    .map((i) => stringOrNull(i.clientId) ?? (typeof i.id === 'string' ? i.id : null))
    .filter((v): v is string => v !== null);
  const collection = ctx.collection(entity);
  // An empty table (an initial pull) has nothing to look up: every item is new.
  const empty = options.assumeNew === true || (await tableIsEmpty(ctx, entity));
  const bySid = new Map<string, AnyModel>();
  for (const chunk of empty ? [] : chunks(serverIds, 500)) {
    for (const record of await collection.query(Q.where(SYNC_COLUMNS.serverId, Q.oneOf(chunk))).fetch()) {
      bySid.set(raw(record, SYNC_COLUMNS.serverId) as string, record);
    }
  }
  const byLocal = empty ? new Map<string, AnyModel>() : await findLocal(ctx, entity, candidateIds);
  const fkMaps = await remoteToLocalIds(ctx, entity, list, options.known);
  const touched = new Set<string>();
  const targets: { item: WireItem; existing: AnyModel | null; localId: string }[] = [];
  for (const item of list) {
    const sid = typeof item.id === 'string' ? item.id : null;
    const cid = stringOrNull(item.clientId);
    const existing = (sid ? bySid.get(sid) : undefined) ?? byLocal.get(cid ?? sid ?? '') ?? null;
    const localId = existing?.id ?? cid ?? sid;
    if (!localId || touched.has(localId)) continue;
    touched.add(localId);
    targets.push({ item, existing, localId });
  }
  const withOps = new Set<string>();
  if (!options.force) {
    for (const op of await ctx.queue.openFor(entity.name, targets.map((t) => t.localId))) {
      if (!options.ignoreOpIds?.has(op.id)) withOps.add(op.entityId);
    }
  }
  let keptLocal = 0;
  let deleted = 0;
  const apply = targets.filter((t) => {
    if (withOps.has(t.localId)) {
      keptLocal += 1;
      return false;
    }
    if (isTombstone(t.item)) {
      if (t.existing) deleted += 1;
      return t.existing !== null;
    }
    return true;
  });
  const rawNew = options.rawCreates === true;
  const newRaw = serverRawOf(entity, fkMaps);
  const prepare = (): AnyModel[] =>
    apply.flatMap(({ item, existing, localId }) => {
      if (isTombstone(item)) return [existing!.prepareDestroyPermanently()];
      const write = (r: AnyModel): void => writeServerFields(ctx, entity, r, item, fkMaps);
      if (existing) return [existing.prepareUpdate(write)];
      if (rawNew) return [];
      // A new record straight from its raw columns (what prepareCreate + writeServerFields would set).
      return [collection.prepareCreateFromDirtyRaw(newRaw(item, localId))];
    });
  const inserts = rawNew ? apply.filter((t) => !t.existing && !isTombstone(t.item)) : [];
  const insertSqls = (): [string, unknown[]][] =>
    insertStatements(ctx.database, entity, inserts, serverColumns(entity, fkMaps), (t) => t.localId);
  const changes: Omit<PulledChanges, 'entity'> = { created: [], updated: [], deleted: [] };
  for (const { item, existing, localId } of apply) {
    if (isTombstone(item)) changes.deleted.push(localId);
    else (existing ? changes.updated : changes.created).push(localId);
  }
  const remember = (known: KnownIds): void => {
    const ids = known.get(entity.name);
    if (!ids) return;
    for (const { item, localId } of apply) {
      if (typeof item.id !== 'string') continue;
      if (isTombstone(item)) ids.delete(item.id);
      else ids.set(item.id, localId);
    }
  };
  return { prepare, insertSqls, inserted: inserts.length, keptLocal, deleted, changes, remember };
}

/**
 * The dirty raw of a new record from a pulled item, for `prepareCreateFromDirtyRaw` (the
 * Model path): each column `serverColumns` gives a value, as the raw INSERTs write it.
 */
export function serverRaw(entity: EntityDescriptor, item: WireItem, localId: string, fkMaps: Map<string, Map<string, string>>): Record<string, unknown> {
  return serverRawOf(entity, fkMaps)(item, localId);
}

/** `serverRaw` for many items: the columns' getters resolved once. */
function serverRawOf(entity: EntityDescriptor, fkMaps: Map<string, Map<string, string>>): (item: WireItem, localId: string) => Record<string, unknown> {
  const source = serverColumns(entity, fkMaps);
  const columns = [...new Set([...entity.fields.map((f) => f.column), ...Object.values(SYNC_COLUMNS)])];
  const getters = columns.flatMap((column) => {
    const get = source(column);
    return get ? [[column, get] as const] : [];
  });
  return (item, localId) => {
    const out: Record<string, unknown> = { id: localId };
    for (const [column, get] of getters) {
      const value = get({ item });
      if (value !== undefined) out[column] = value;
    }
    return out;
  };
}

/**
 * The value each column of a pulled item's new row takes (undefined: none, read as null),
 * the one definition behind both the raw INSERTs (raw-insert.ts, no object per row) and
 * the Model path (`serverRaw`).
 */
export function serverColumns(entity: EntityDescriptor, fkMaps: Map<string, Map<string, string>>): RowSource<{ item: WireItem }> {
  return (column) => {
    const field = entity.fields.find((f) => f.column === column);
    const fromField = field
      ? ({ item }: { item: WireItem }): unknown => {
          if (!(field.name in item)) return undefined;
          let value = item[field.name];
          if (field.relation && typeof value === 'string') value = fkMaps.get(field.relation)?.get(value) ?? value;
          return wireToRaw(field, value);
        }
      : undefined;
    // The sync columns win over a field of the same column.
    switch (column) {
      case SYNC_COLUMNS.clientId:
        return ({ item }) => stringOrNull(item.clientId);
      case SYNC_COLUMNS.serverId:
        return (t) => (typeof t.item.id === 'string' ? t.item.id : fromField?.(t));
      case SYNC_COLUMNS.version:
        return (t) => (typeof t.item.version === 'number' ? t.item.version : fromField?.(t));
      case SYNC_COLUMNS.serverUpdatedAt:
        return (t) => isoToMillis(t.item.updatedAt) ?? fromField?.(t);
      case SYNC_COLUMNS.deletedAt:
        return () => null;
      default:
        return fromField;
    }
  };
}

export function writeServerFields(
  ctx: EngineContext,
  entity: EntityDescriptor,
  record: AnyModel,
  item: WireItem,
  fkMaps: Map<string, Map<string, string>>,
): void {
  for (const field of entity.fields) {
    if (!(field.name in item)) continue;
    let value = item[field.name];
    if (field.relation && typeof value === 'string') value = fkMaps.get(field.relation)?.get(value) ?? value;
    record._setRaw(field.column, wireToRaw(field, value));
  }
  if (typeof item.id === 'string') record._setRaw(SYNC_COLUMNS.serverId, item.id);
  const clientId = stringOrNull(item.clientId);
  if (clientId && !stringOrNull(raw(record, SYNC_COLUMNS.clientId))) record._setRaw(SYNC_COLUMNS.clientId, clientId);
  if (typeof item.version === 'number') record._setRaw(SYNC_COLUMNS.version, item.version);
  const updatedAt = isoToMillis(item.updatedAt);
  if (updatedAt !== null) record._setRaw(SYNC_COLUMNS.serverUpdatedAt, updatedAt);
  record._setRaw(SYNC_COLUMNS.deletedAt, null);
}

/** Writes server-shaped items (e.g. an online create's answer) locally, as synced. Records with waiting local changes are kept. */
export async function applyServerItems(ctx: EngineContext, entity: EntityDescriptor, items: WireItem[]): Promise<void> {
  await ctx.database.write(async () => {
    const applied = await planApply(ctx, entity, items);
    await ctx.database.batch(...applied.prepare());
  }, 'trackhub:applyServerItems');
}

/** Translates the foreign keys of wire-shaped values from local ids to server ids (else client ids). */
export async function translateForServer(
  ctx: EngineContext,
  entity: EntityDescriptor,
  values: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const maps = await localToRemoteIds(ctx, entity, [values]);
  const out = { ...values };
  for (const field of relationFields(ctx, entity)) {
    const value = out[field.name];
    if (typeof value === 'string') out[field.name] = maps.get(field.relation!)?.get(value) ?? value;
  }
  return out;
}
