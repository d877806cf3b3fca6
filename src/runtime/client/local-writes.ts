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

/** Writes wire-shaped values into a record's columns. */
export function writeValues(descriptor: EntityDescriptor, record: Model, values: Record<string, unknown>): void {
  for (const field of descriptor.fields) {
    if (field.name in values) record._setRaw(field.column, appToRaw(field, values[field.name]));
  }
}

/** The live (not deleted) record, or RecordNotFoundError. */
export async function liveModel<TModel extends Model = Model>(ctx: LocalWriteContext, descriptor: EntityDescriptor, id: string): Promise<TModel> {
  const rows = await ctx.database
    .get<TModel>(descriptor.table)
    .query(Q.where('id', id), Q.where(SYNC_COLUMNS.deletedAt, null))
    .fetch();
  const model = rows[0];
  if (!model) throw new RecordNotFoundError(descriptor.name, id);
  return model;
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
  ctx.assertOpen();
  const db = ctx.database;
  const queue = ctx.engine.queue;
  return db.write(async () => {
    const record = await liveModel<TModel>(ctx, descriptor, id);
    if (Object.keys(values).length === 0) return record;
    const current = record._raw as unknown as RawRow;
    const version = current[SYNC_COLUMNS.version] as number;
    // What the device had before this change: the merge strategy sends it as `_base`.
    const base: Record<string, unknown> = {};
    for (const field of descriptor.fields) if (field.name in values) base[field.name] = rawToWire(field, current[field.column]);
    const plan = await queue.plan({
      entity: descriptor.name,
      entityId: id,
      operation: 'update',
      payload: values,
      base,
      baseVersion: version,
    });
    const prepared = record.prepareUpdate((r) => writeValues(descriptor, r, values));
    await db.batch(prepared, ...queue.prepare(plan));
    return record;
  }, `${descriptor.name}.update`);
}
