/**
 * Tenant-scoped record access shared by the sync service and the online CRUD
 * services. Every function takes a `RecordStore`: the client or transaction
 * client to use, and, for a batched push, that transaction's look-up cache
 * (batch.ts), passed explicitly so the same call always means the same thing.
 */
import { randomUUID } from 'node:crypto';

import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { BatchLookups, RelationTarget } from './batch.js';
import { ItemError, SyncErrorCode } from './errors.js';
import { parseServerId, type ServerId } from './ids.js';
import { delegateOf, type Row } from './prisma.js';
import { onDeleteOf } from './registry.js';
import { readScope } from './access.js';
import { tenantScope, tenantValue } from './tenant.js';

/** Where records are read and written: a (transaction) client, plus a batched push's cache. */
export interface RecordStore {
  readonly client: unknown;
  readonly batch: BatchLookups | null;
}

/** Reads and writes straight through `client` (a PrismaClient or a transaction client). */
export function plainStore(client: unknown): RecordStore {
  return { client, batch: null };
}

/** A batched push's transaction: look-ups answered from `batch`, inserts deferred (see batch.ts). */
export function batchedStore(client: unknown, batch: BatchLookups): RecordStore {
  return { client, batch };
}

export { tenantScope, tenantValue } from './tenant.js';

/** The tenant column's value of a new record (`data` of a create). */
function tenantData(d: { tenantField: string | null; tenantKind?: 'String' | 'Int' }, principal: Principal): Row {
  return d.tenantField ? { [d.tenantField]: tenantValue(d, principal) } : {};
}

/** `where` selecting live (not soft-deleted) records. */
export function liveScope(d: EntityDescriptor): Row {
  return { [d.tombstoneField]: null };
}

/** `data` of a soft delete. */
export function deletionData(d: EntityDescriptor, stamp: Date): Row {
  return { [d.tombstoneField]: stamp };
}

export async function findById(store: RecordStore, d: EntityDescriptor, principal: Principal, id: ServerId): Promise<Row | null> {
  const cached = await store.batch?.get(store.client, d, principal, 'id', id);
  if (cached !== undefined) return cached;
  return delegateOf(store.client, d.delegate).findFirst({ where: { AND: [readScope(d, principal), { id }] } });
}

export async function findByClientId(
  store: RecordStore,
  d: EntityDescriptor,
  principal: Principal,
  clientId: string,
): Promise<Row | null> {
  const cached = await store.batch?.get(store.client, d, principal, 'clientId', clientId);
  if (cached !== undefined) return cached;
  return delegateOf(store.client, d.delegate).findFirst({ where: { AND: [readScope(d, principal), { clientId }] } });
}

/**
 * Checks and translates relation foreign keys in `data` (mutated in place).
 * A value that is the id of a record of the target entity in the caller's
 * tenant is kept; one that is the `clientId` of such a record (a parent
 * created offline whose server id the device does not know yet) becomes that
 * record's id; anything else (including another tenant's id) is refused.
 */
export async function resolveRelations(
  store: RecordStore,
  d: EntityDescriptor,
  principal: Principal,
  data: Row,
  options: { storeDeleted?: boolean } = {},
): Promise<RelationOutcome> {
  const { client, batch } = store;
  let outcome: RelationOutcome = 'live';
  for (const field of d.fields) {
    const relation = field.relation;
    const value = data[field.name];
    if (field.reference && value !== null && value !== undefined) {
      const ref = field.reference;
      const found = await delegateOf(client, ref.delegate).findFirst({ where: { ...tenantScope(ref, principal), [ref.key]: value }, select: { [ref.key]: true } });
      if (!found) throw new ItemError(SyncErrorCode.REFERENCE_NOT_FOUND, `${field.name}: no ${ref.model} with ${ref.key} ${JSON.stringify(value)}${ref.tenantField ? ' in your tenant' : ''}`);
      continue;
    }
    if (!relation || typeof value !== 'string') continue;
    let target = batch?.relationTarget(relation.delegate, principal, value);
    if (target === undefined) {
      if (batch?.hasPendingFor(relation.delegate)) await batch.flush(client);
      target = (await findRelationTarget(client, relation, principal, value)) ?? undefined;
      if (!target) {
        throw new ItemError(
          SyncErrorCode.VALIDATION_FAILED,
          `${field.name}: no ${relation.entity} with id or clientId "${value}" in your tenant`,
        );
      }
      batch?.rememberRelation(relation.delegate, value, target);
    }
    data[field.name] = target.id;
    if (!target.deleted) continue;
    // The parent was deleted (on another device, or online): its relation's onDelete decides.
    const action = onDeleteOf(field);
    if (action === 'SetNull') data[field.name] = null;
    else if (action === 'Cascade' && options.storeDeleted) outcome = 'deleted';
    else
      throw new ItemError(
        SyncErrorCode.PARENT_DELETED,
        `${field.name}: the ${relation.entity} "${value}" was deleted` +
          (action === 'Restrict' ? ` (${d.name}.${field.name} is onDelete: Restrict)` : ''),
      );
  }
  return outcome;
}

/**
 * `live`: every relation names a live parent (or was cleared); `deleted`: a parent is gone
 * under `onDelete: Cascade`, so the record is stored deleted, as the delete would have left it.
 */
export type RelationOutcome = 'live' | 'deleted';

async function findRelationTarget(
  client: unknown,
  relation: NonNullable<EntityDescriptor['fields'][number]['relation']>,
  principal: Principal,
  value: string,
): Promise<RelationTarget | null> {
  const target = delegateOf(client, relation.delegate);
  const scope = readScope({ ...relation, name: relation.entity }, principal);
  const select = { id: true, [TOMBSTONE_FIELD]: true };
  // The value is the target's server id (as text: an Int id is its decimal text) or, while the device
  // does not know that yet, the target's clientId.
  const id = parseServerId(relation.idKind, value);
  const row =
    (id === undefined ? null : await target.findFirst({ where: { AND: [scope, { id }] }, select })) ??
    (await target.findFirst({ where: { AND: [scope, { clientId: value }] }, select }));
  return row ? { id: row.id as ServerId, deleted: row[TOMBSTONE_FIELD] !== null && row[TOMBSTONE_FIELD] !== undefined } : null;
}

/** Every synced entity's tombstone field (the only one the contract supports). */
const TOMBSTONE_FIELD = 'deletedAt';

export async function insertRecord(
  store: RecordStore,
  d: EntityDescriptor,
  principal: Principal,
  stamp: Date,
  clientId: string | null,
  data: Row,
): Promise<Row> {
  const values = { ...(d.mintId ? { id: randomUUID() } : {}), ...data, ...tenantData(d, principal), clientId, version: 1, updatedAt: stamp };
  const { client, batch } = store;
  // Batched push: the insert is written with the next ones in one query (see batch.ts).
  if (batch && typeof clientId === 'string' && batch.canDefer(client, d)) return batch.defer(d, values);
  const row = await delegateOf(client, d.delegate).create({ data: values });
  batch?.remember(d, row);
  return row;
}

/**
 * Optimistic write: applies `data` only if the record is still at `row.version`,
 * bumping the version and stamping updatedAt. Returns the new row, or null when
 * someone else wrote it first (the caller re-reads and reports a conflict).
 */
export async function guardedUpdate(
  store: RecordStore,
  d: EntityDescriptor,
  principal: Principal,
  row: Row,
  data: Row,
  stamp: Date,
): Promise<Row | null> {
  const { client, batch } = store;
  const version = row.version as number;
  if (batch?.canDeferUpdate(d, data)) {
    // Batched push: written with the chunk's other updates in one guarded statement
    // (bulk-update.ts); a guard that fails there redoes the chunk item by item.
    batch.deferUpdate(d, principal, row, data, stamp);
    return { ...row, version: version + 1, updatedAt: stamp };
  }
  const delegate = delegateOf(client, d.delegate);
  const { count } = await delegate.updateMany({
    where: { ...tenantScope(d, principal), id: row.id, version },
    data: { ...data, version: version + 1, updatedAt: stamp },
  });
  if (count === 0) return null;
  if (batch) {
    // Batched push: the caller reports only id, clientId, version and updatedAt; skip the
    // re-read. The cached copy is stale now: a later item of the batch reads the database.
    batch.forget(d, row);
    return { ...row, version: version + 1, updatedAt: stamp };
  }
  return delegate.findFirst({ where: { ...tenantScope(d, principal), id: row.id } });
}
