/**
 * Local writes shared by the typed services and the upload queue: checking and
 * converting values, and "change a record and enqueue the change" in one
 * database write (so an attached file's URL is queued exactly like an app's update).
 */
import { Q } from '@nozbe/watermelondb';
import type { Model } from '@nozbe/watermelondb';

import { appToRaw, appToWire, rawToWire } from './codec.js';
import type { RawRow } from './codec.js';
import type { LocalWriteContext } from './context.js';
import type { EntityDescriptor, FieldDescriptor } from './descriptors.js';
import { SYNC_COLUMNS } from './descriptors.js';
import { hasLocalDependents, prepareLocalDelete } from './local-delete.js';
import { LOOKUP_CHUNK, planAgainst } from './queue.js';

export class RecordNotFoundError extends Error {
  override name = 'RecordNotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}

export class ValidationError extends Error {
  override name = 'ValidationError';
}

/** Refuses a value that does not fit the field (ValidationError naming entity and field). */
export function checkValue(descriptor: EntityDescriptor, field: FieldDescriptor, value: unknown): void {
  if (value === null || value === undefined) {
    if (!field.optional) throw new ValidationError(`${descriptor.name}.${field.name} cannot be null`);
    return;
  }
  const fail = (expected: string): never => {
    throw new ValidationError(
      `${descriptor.name}.${field.name} must be ${expected}, got ${JSON.stringify(value)}`,
    );
  };
  switch (field.kind) {
    case 'String':
      if (typeof value !== 'string') fail('a string');
      // A media field holds the uploaded file's URL, never a device path: attachFile() uploads it.
      if (field.access === 'media' && !/^https?:\/\/\S+$/i.test(value as string))
        fail('the http(s) URL of an uploaded file (attach a local file with attachFile())');
      break;
    case 'Enum':
      if (typeof value !== 'string' || (field.enumValues && !field.enumValues.includes(value)))
        fail(`one of ${(field.enumValues ?? []).join(', ')}`);
      break;
    case 'Int':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('an integer');
      break;
    case 'Float':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
      break;
    case 'Boolean':
      if (typeof value !== 'boolean') fail('a boolean');
      break;
    case 'DateTime':
      if (
        !(value instanceof Date || typeof value === 'string' || typeof value === 'number') ||
        appToRaw(field, value) === null
      )
        fail('a date');
      break;
    default:
      break;
  }
}

/** Wire-shaped values of a create input (provided fields + literal defaults). */
export function createValues(descriptor: EntityDescriptor, given: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of descriptor.fields) {
    let value = given[field.name];
    if (value === undefined && field.defaultValue !== undefined) value = field.defaultValue;
    if (value === undefined) {
      if (!field.optional && !field.hasDefault)
        throw new ValidationError(`${descriptor.name}.${field.name} is required`);
      continue;
    }
    checkValue(descriptor, field, value);
    values[field.name] = appToWire(field, value);
  }
  return values;
}

/** Wire-shaped values of an update patch. */
export function updateValues(descriptor: EntityDescriptor, given: Record<string, unknown>): Record<string, unknown> {
  const byName = new Map(descriptor.fields.map((f) => [f.name, f]));
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const field = byName.get(name);
    if (!field) throw new ValidationError(`${descriptor.name} has no field ${name}`);
    if (field.access === 'readonly')
      throw new ValidationError(`${descriptor.name}.${name} is read-only: set it on create`);
    checkValue(descriptor, field, value);
    values[name] = appToWire(field, value);
  }
  return values;
}

/**
 * The raw columns of a new local record (for `prepareCreateFromDirtyRaw`): its id, the
 * clientId (the same UUID), version 0 (never synced) and the wire-shaped `values`.
 * Columns left out get their type's empty value, as with `prepareCreate`.
 */
export function createRaw(descriptor: EntityDescriptor, id: string, values: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = { id, [SYNC_COLUMNS.clientId]: id, [SYNC_COLUMNS.version]: 0 };
  for (const field of descriptor.fields) if (field.name in values) raw[field.column] = appToRaw(field, values[field.name]);
  return raw;
}

/** Writes wire-shaped values into a record's columns. */
export function writeValues(descriptor: EntityDescriptor, record: Model, values: Record<string, unknown>): void {
  for (const field of descriptor.fields) {
    if (field.name in values) record._setRaw(field.column, appToRaw(field, values[field.name]));
  }
}

/** The live (not deleted) record, or RecordNotFoundError. */
export async function liveModel<TModel extends Model = Model>(ctx: LocalWriteContext, descriptor: EntityDescriptor, id: string): Promise<TModel> {
  return (await liveModels<TModel>(ctx, descriptor, [id])).get(id)!;
}

/**
 * The live records by id; RecordNotFoundError for the first id missing or deleted. A record
 * WatermelonDB holds in its record cache is answered from there, as `Collection.find` does
 * (every write through WatermelonDB keeps the cached copy current; the pull's raw INSERTs
 * write only records that are in no cache); the others in queries of LOOKUP_CHUNK ids.
 */
export async function liveModels<TModel extends Model = Model>(
  ctx: LocalWriteContext,
  descriptor: EntityDescriptor,
  ids: readonly string[],
): Promise<Map<string, TModel>> {
  const found = new Map<string, TModel>();
  const collection = ctx.database.get<TModel>(descriptor.table);
  const cache = (collection as unknown as { _cache?: { get?(id: string): TModel | undefined } })._cache;
  const missing: string[] = [];
  for (const id of ids) {
    const cached = typeof cache?.get === 'function' ? cache.get(id) : undefined;
    if (!cached) missing.push(id);
    else if (isLive(cached)) found.set(id, cached);
    else throw new RecordNotFoundError(descriptor.name, id);
  }
  for (let i = 0; i < missing.length; i += LOOKUP_CHUNK) {
    const chunk = missing.slice(i, i + LOOKUP_CHUNK);
    const where = chunk.length === 1 ? Q.where('id', chunk[0]!) : Q.where('id', Q.oneOf(chunk));
    for (const model of await collection.query(where, Q.where(SYNC_COLUMNS.deletedAt, null)).fetch()) found.set(model.id, model);
  }
  for (const id of ids) if (!found.has(id)) throw new RecordNotFoundError(descriptor.name, id);
  return found;
}

/** What the look-up query asks of a row: not soft-deleted, and not marked deleted by WatermelonDB. */
function isLive(model: Model): boolean {
  const raw = model._raw as unknown as RawRow;
  return (raw[SYNC_COLUMNS.deletedAt] ?? null) === null && raw._status !== 'deleted';
}

/**
 * The prepared models of one batch in which no two touch the same row, ordered by table
 * and kind (stable): WatermelonDB encodes each run of one kind on one table as one SQL
 * text with many argument rows, and records interleaved with their queue rows would
 * make a run of one row each.
 */
export function groupedForBatch(models: Model[]): Model[] {
  const key = (m: Model) => `${m.table}\u0000${(m as unknown as { _preparedState: string | null })._preparedState ?? ''}`;
  const order = new Map<string, number>();
  for (const m of models) if (!order.has(key(m))) order.set(key(m), order.size);
  return models
    .map((m, i) => ({ m, i, g: order.get(key(m))! }))
    .sort((a, b) => a.g - b.g || a.i - b.i)
    .map((x) => x.m);
}

/** One record's change for updateManyAndEnqueue: wire-shaped `values` (see updateValues). */
export interface RecordUpdate {
  id: string;
  values: Record<string, unknown>;
}

/**
 * Changes fields of a record (wire-shaped `values`, see updateValues) and queues the
 * update, merged with a waiting insert / update, in one database write.
 */
export async function updateAndEnqueue<TModel extends Model = Model>(
  ctx: LocalWriteContext,
  descriptor: EntityDescriptor,
  id: string,
  values: Record<string, unknown>,
): Promise<TModel> {
  return (await updateManyAndEnqueue<TModel>(ctx, descriptor, [{ id, values }], 'update'))[0]!;
}

/**
 * Changes many records of one entity and queues their updates in one writer and one
 * database batch (atomic: a missing record writes nothing). The queue ends as after
 * the same updates made one by one: each record's changes, in order, make one update
 * (as coalescing makes of them), which joins the record's waiting operation the way
 * `OperationQueue.plan` decides. Resolves with the records, in the order of `changes`.
 */
export async function updateManyAndEnqueue<TModel extends Model = Model>(
  ctx: LocalWriteContext,
  descriptor: EntityDescriptor,
  changes: readonly RecordUpdate[],
  label = 'updateMany',
): Promise<TModel[]> {
  ctx.assertOpen();
  const db = ctx.database;
  const queue = ctx.engine.queue;
  // A record changed twice: its fields in order, as two coalesced updates would leave them.
  const merged = new Map<string, Record<string, unknown>>();
  for (const { id, values } of changes) merged.set(id, { ...merged.get(id), ...values });
  return db.write(async () => {
    const records = await liveModels<TModel>(ctx, descriptor, [...merged.keys()]);
    const changed = [...merged.keys()].filter((id) => Object.keys(merged.get(id)!).length > 0);
    const latest = await queue.latestOpen(descriptor.name, changed);
    const now = Date.now();
    const prepared: Model[] = [];
    for (const id of changed) {
      const values = merged.get(id)!;
      const record = records.get(id)!;
      const current = record._raw as unknown as RawRow;
      // What the device had before this change: the merge strategy sends it as `_base`.
      const base: Record<string, unknown> = {};
      for (const field of descriptor.fields) if (field.name in values) base[field.name] = rawToWire(field, current[field.column]);
      const plan = planAgainst(
        { entity: descriptor.name, entityId: id, operation: 'update', payload: values, base, baseVersion: current[SYNC_COLUMNS.version] as number },
        latest.get(id) ?? null,
      );
      prepared.push(record.prepareUpdate((r) => writeValues(descriptor, r, values)), ...queue.prepare(plan, now));
    }
    if (prepared.length) await db.batch(groupedForBatch(prepared));
    return changes.map((c) => records.get(c.id)!);
  }, `${descriptor.name}.${label}`);
}

/**
 * Deletes many records of one entity locally and queues the deletes, in one writer
 * and one database batch (atomic: a missing, already deleted or repeated id writes
 * nothing). A record the server never saw is dropped with its waiting insert, as
 * one `delete` after another would.
 */
export async function deleteManyAndEnqueue(ctx: LocalWriteContext, descriptor: EntityDescriptor, ids: readonly string[], label = 'deleteMany'): Promise<void> {
  ctx.assertOpen();
  const db = ctx.database;
  const queue = ctx.engine.queue;
  await db.write(async () => {
    const seen = new Set<string>();
    // A second delete of a record finds it deleted, as delete() would.
    for (const id of ids) {
      if (seen.has(id)) throw new RecordNotFoundError(descriptor.name, id);
      seen.add(id);
    }
    const records = await liveModels(ctx, descriptor, ids);
    // Relations point here: their onDelete on the device (Cascade, SetNull, Restrict) plans the children too.
    if (ctx.entities && hasLocalDependents(ctx.entities, descriptor)) {
      const prepared = await prepareLocalDelete({ database: db, queue, entities: ctx.entities }, descriptor, ids.map((id) => records.get(id)!));
      if (prepared.length) await db.batch(prepared);
      return;
    }
    const latest = await queue.latestOpen(descriptor.name, ids);
    const now = Date.now();
    const prepared: Model[] = [];
    for (const id of ids) {
      const record = records.get(id)!;
      const version = (record._raw as unknown as RawRow)[SYNC_COLUMNS.version] as number;
      const plan = planAgainst({ entity: descriptor.name, entityId: id, operation: 'delete', payload: {}, baseVersion: version }, latest.get(id) ?? null);
      prepared.push(
        plan.decision.kind === 'cancel' ? record.prepareDestroyPermanently() : record.prepareUpdate((r) => r._setRaw(SYNC_COLUMNS.deletedAt, now)),
        ...queue.prepare(plan, now),
      );
    }
    if (prepared.length) await db.batch(prepared);
  }, `${descriptor.name}.${label}`);
}
