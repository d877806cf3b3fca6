/**
 * Value conversions between the three shapes a field value takes:
 *
 * - app:  what services accept and return (DateTime as Date, Json parsed);
 * - raw:  the WatermelonDB column (DateTime as epoch ms, Json as JSON text);
 * - wire: the GraphQL JSON payload (DateTime as ISO 8601 UTC, Json as a value).
 */
import type { JsonValue } from '../../contract/wire.js';
import type { EntityDescriptor, FieldDescriptor, SyncedRecord } from './descriptors.js';
import { SYNC_COLUMNS } from './descriptors.js';

export type RawValue = string | number | boolean | null;
export type RawRow = Record<string, unknown>;
export type WireItem = Record<string, unknown>;

function toMillis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function parseJsonText(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** App value -> column value. */
export function appToRaw(field: FieldDescriptor, value: unknown): RawValue {
  if (value === undefined || value === null) {
    return field.kind === 'Json' && !field.optional ? 'null' : null;
  }
  switch (field.kind) {
    case 'DateTime':
      return toMillis(value);
    case 'Json':
      return JSON.stringify(value);
    case 'Boolean':
      return Boolean(value);
    case 'Int':
    case 'Float':
      return typeof value === 'number' ? value : Number(value);
    default:
      return String(value);
  }
}

/** Column value -> app value. */
export function rawToApp(field: FieldDescriptor, raw: unknown): unknown {
  if (raw === undefined || raw === null) return null;
  switch (field.kind) {
    case 'DateTime':
      return typeof raw === 'number' ? new Date(raw) : null;
    case 'Json':
      return parseJsonText(raw);
    case 'Boolean':
      return raw === true || raw === 1;
    default:
      return raw;
  }
}

/** Column value -> wire value. */
export function rawToWire(field: FieldDescriptor, raw: unknown): unknown {
  if (raw === undefined || raw === null) return null;
  switch (field.kind) {
    case 'DateTime':
      return typeof raw === 'number' ? new Date(raw).toISOString() : null;
    case 'Json':
      return parseJsonText(raw);
    case 'Boolean':
      return raw === true || raw === 1;
    default:
      return raw;
  }
}

/** Wire value -> column value. */
export function wireToRaw(field: FieldDescriptor, value: unknown): RawValue {
  return appToRaw(field, value);
}

/** App value -> wire value (what the queue stores in an operation's payload). */
export function appToWire(field: FieldDescriptor, value: unknown): unknown {
  return rawToWire(field, appToRaw(field, value));
}

export function isoToMillis(value: unknown): number | null {
  return toMillis(value);
}

/** The `server_updated_at` column read as a field (a DateTime). */
const SERVER_UPDATED_AT: FieldDescriptor = { name: 'serverUpdatedAt', column: '', kind: 'DateTime', optional: true, access: 'synced' };

/** The plain record object a service returns for a row. */
export function recordFromRaw<T extends SyncedRecord>(entity: EntityDescriptor, raw: RawRow): T {
  const out: Record<string, unknown> = {
    id: raw.id,
    serverId: (raw[SYNC_COLUMNS.serverId] as string | null | undefined) || null,
    clientId: (raw[SYNC_COLUMNS.clientId] as string | null | undefined) || null,
    version: typeof raw[SYNC_COLUMNS.version] === 'number' ? raw[SYNC_COLUMNS.version] : 0,
    serverUpdatedAt: rawToApp(SERVER_UPDATED_AT, raw[SYNC_COLUMNS.serverUpdatedAt]),
  };
  for (const field of entity.fields) out[field.name] = rawToApp(field, raw[field.column]);
  return out as T;
}

/** Whether a pulled item is a tombstone. */
export function isTombstone(item: WireItem): boolean {
  return item.deletedAt !== null && item.deletedAt !== undefined;
}

/** A parsed `Json` field value. */
export type { JsonValue };

/** Sanitizer for WatermelonDB's `@json` decorator: a missing value reads as null. */
export function jsonValue(value: unknown): JsonValue {
  return (value ?? null) as JsonValue;
}
