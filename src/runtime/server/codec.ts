/**
 * Wire <-> database values, and parsing of pushed items.
 *
 * Wire form (pulled items, conflict payloads): DateTime as ISO 8601 UTC with
 * milliseconds, Json as JSON values, everything else as JSON scalars.
 */
import type { JsonValue, WireRecord } from '../../contract/wire.js';
import type { EntityDescriptor, FieldDescriptor } from './descriptor.js';
import { ItemError, SyncErrorCode } from './errors.js';
import { parseServerId, wireId, type ServerId } from './ids.js';
import { prismaDbNull, type Row } from './prisma.js';

export type { JsonValue, WireRecord };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Years every supported database stores (PostgreSQL has no year 0; SQLite stores ISO text). */
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Text every supported database stores as sent: no NUL character (PostgreSQL
 * `text` and `jsonb` refuse it, SQLite would keep it) and no lone UTF-16
 * surrogate (not valid Unicode: PostgreSQL would store U+FFFD instead).
 */
export function isStorableText(value: string): boolean {
  return !/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function inYearRange(d: Date): boolean {
  const t = d.getTime();
  if (Number.isNaN(t)) return false;
  const year = d.getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

/**
 * A wire date-time -> Date, or null. ISO 8601 only, checked strictly: a real
 * calendar date (no 2020-02-30 rolling over to March), hours 00-23, years
 * 0001-9999 in UTC. A value without an offset is read as UTC (never as the
 * server's local time).
 */
export function toDate(value: unknown): Date | null {
  if (value instanceof Date) return inYearRange(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = ISO_DATE.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 59))) return null;
  if (m[7] !== undefined && m[7] !== 'Z' && (Number(m[7].slice(1, 3)) > 23 || Number(m[7].slice(-2)) > 59)) return null;
  const d = new Date(m[4] !== undefined && m[7] === undefined ? `${value}Z` : value);
  return inYearRange(d) ? d : null;
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value as string);
  return d.toISOString();
}

/** Is it a JSON value (no undefined, functions, NaN, cycles deeper than we care)? */
function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'string') return isStorableText(value);
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isPlainObject(value)) return Object.entries(value).every(([k, v]) => isStorableText(k) && isJsonValue(v, depth + 1));
  return false;
}

/** Database value -> wire value. */
export function toWire(field: FieldDescriptor, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (field.kind === 'DateTime') return iso(value);
  if (field.relation) return wireId(value); // a key to an Int id travels as its text, like the id itself
  return value;
}

/** Database value -> GraphQL (online CRUD) value: Dates stay Dates for the DateTime scalar. */
export function toGraphQL(field: FieldDescriptor, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (field.relation) return wireId(value);
  return value;
}

/**
 * Wire/GraphQL value -> database value, or a VALIDATION_FAILED message.
 * `null` is accepted only for nullable fields.
 */
export function parseValue(field: FieldDescriptor, value: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (value === null) {
    if (!field.optional) return { ok: false, message: `${field.name} cannot be null` };
    return { ok: true, value: field.kind === 'Json' ? prismaDbNull : null };
  }
  switch (field.kind) {
    case 'String':
      if (typeof value !== 'string') return { ok: false, message: `${field.name} must be a string` };
      if (!isStorableText(value)) return { ok: false, message: `${field.name} must be valid Unicode text without NUL characters` };
      return { ok: true, value };
    case 'Int':
      if (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        return { ok: true, value };
      return { ok: false, message: `${field.name} must be a 32-bit integer` };
    case 'Float':
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      return { ok: false, message: `${field.name} must be a finite number` };
    case 'Boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      return { ok: false, message: `${field.name} must be a boolean` };
    case 'DateTime': {
      const d = toDate(value);
      if (d) return { ok: true, value: d };
      return { ok: false, message: `${field.name} must be an ISO 8601 date-time string (a real date, years 0001-9999)` };
    }
    case 'Json':
      if (isJsonValue(value)) return { ok: true, value };
      return { ok: false, message: `${field.name} must be a JSON value (finite numbers, text without NUL characters)` };
    case 'Enum':
      if (typeof value === 'string' && (field.enumValues ?? []).includes(value)) return { ok: true, value };
      return { ok: false, message: `${field.name} must be one of ${(field.enumValues ?? []).join(', ')}` };
  }
}

/** Wire form of a value the client sent (already accepted by parseValue), for comparisons. */
export function normalizeWire(field: FieldDescriptor, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (field.kind === 'DateTime') return iso(toDate(value));
  return value;
}

/** Structural equality of wire values (JSON semantics; object key order ignored). */
export function wireEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => wireEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && wireEqual(a[k], b[k]));
  }
  return false;
}

export function isDeletedRow(d: EntityDescriptor, row: Row): boolean {
  const marker = row[d.tombstoneField];
  return marker !== null && marker !== undefined;
}

function deletedAtOf(d: EntityDescriptor, row: Row): Date | null {
  const v = row[d.tombstoneField];
  return v instanceof Date ? v : v ? new Date(v as string) : null;
}

/** A database row -> a pulled item: conventions + every non-ignored data field. Never the tenant. */
export function serializeRecord(d: EntityDescriptor, row: Row): WireRecord {
  const out: WireRecord = {
    id: wireId(row.id),
    clientId: row.clientId ?? null,
    version: row.version,
    updatedAt: iso(row.updatedAt),
    deletedAt: iso(deletedAtOf(d, row)),
  };
  for (const f of d.fields) if (f.access !== 'ignore') out[f.name] = toWire(f, row[f.name]);
  return out;
}

/** A database row -> the GraphQL object of the online CRUD path. */
export function graphqlRecord(d: EntityDescriptor, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: wireId(row.id),
    clientId: row.clientId ?? null,
    version: row.version,
    updatedAt: row.updatedAt,
    deletedAt: deletedAtOf(d, row),
  };
  for (const f of d.fields) if (f.access !== 'ignore') out[f.name] = toGraphQL(f, row[f.name]);
  return out;
}

/** A pushed item, checked and converted. */
export interface ParsedItem {
  /** The stored id (an Int id parsed from its wire text). */
  id?: ServerId;
  clientId?: string | null;
  /** Base version; undefined for a create. */
  version?: number;
  /** Device edit time (timestamp strategy only). */
  deviceUpdatedAt?: Date;
  /** `deletedAt` set: a delete. */
  deleted: boolean;
  /** `_base`: the device's base values of the fields it changed (merge strategy), wire form. */
  base?: Record<string, unknown>;
  /** synced + media fields present in the item, database values. */
  data: Row;
  /** readonly fields present (applied on create only), database values. */
  readonlyData: Row;
  /** Wire form of every data field present (synced, media, readonly). */
  wire: Record<string, unknown>;
}

const CONVENTION_KEYS = new Set(['id', 'clientId', 'version', 'updatedAt', 'deletedAt', '_base']);

/** Checks a pushed item against the entity; throws ItemError (VALIDATION_FAILED / FORBIDDEN_FIELD). */
export function parseItem(d: EntityDescriptor, raw: unknown): ParsedItem {
  if (!isPlainObject(raw)) throw new ItemError(SyncErrorCode.VALIDATION_FAILED, 'item must be a JSON object');
  const problems: string[] = [];
  const forbidden: string[] = [];
  const columnProblems: ItemError[] = [];
  const item: ParsedItem = { deleted: false, data: {}, readonlyData: {}, wire: {} };
  const byName = new Map(d.fields.map((f) => [f.name, f]));

  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (CONVENTION_KEYS.has(key)) continue;
    if (key === d.tenantField || key === d.tombstoneField || d.serverFields.includes(key)) continue; // server-owned: ignored
    const field = byName.get(key);
    if (!field) {
      problems.push(`unknown field ${key}`);
      continue;
    }
    if (field.access === 'ignore') {
      forbidden.push(key);
      continue;
    }
    const parsed = parseValue(field, value);
    if (!parsed.ok) {
      problems.push(parsed.message);
      continue;
    }
    const native = nativeTypeProblem(field, parsed.value);
    if (native) {
      columnProblems.push(native);
      continue;
    }
    if (field.access === 'readonly') item.readonlyData[key] = parsed.value;
    else item.data[key] = parsed.value;
    item.wire[key] = normalizeWire(field, value);
  }

  if (raw.id !== undefined && raw.id !== null) {
    const id = typeof raw.id === 'string' && !isStorableText(raw.id) ? undefined : parseServerId(d.idKind, raw.id);
    if (id !== undefined) item.id = id;
    else problems.push(d.idKind === 'Int' ? 'id must be the server id as returned (the decimal text of a 32-bit integer)' : 'id must be a non-empty string');
  }
  if (raw.clientId !== undefined) {
    if (raw.clientId === null || (typeof raw.clientId === 'string' && raw.clientId !== '' && isStorableText(raw.clientId))) item.clientId = raw.clientId;
    else problems.push('clientId must be a non-empty string or null');
  }
  if (raw.version !== undefined && raw.version !== null) {
    if (typeof raw.version === 'number' && Number.isSafeInteger(raw.version) && raw.version >= 0) item.version = raw.version;
    else problems.push('version must be a non-negative integer');
  }
  if (raw.updatedAt !== undefined && raw.updatedAt !== null) {
    const d8 = toDate(raw.updatedAt);
    if (d8) item.deviceUpdatedAt = d8;
    else problems.push('updatedAt must be an ISO 8601 date-time string');
  }
  if (raw.deletedAt !== undefined && raw.deletedAt !== null) {
    if (toDate(raw.deletedAt) || raw.deletedAt === true) item.deleted = true;
    else problems.push('deletedAt must be an ISO 8601 date-time string or null');
  }
  if (raw._base !== undefined && raw._base !== null) {
    if (!isPlainObject(raw._base)) problems.push('_base must be an object');
    else {
      item.base = {};
      for (const [key, value] of Object.entries(raw._base)) {
        const field = byName.get(key);
        if (!field || field.access === 'ignore') {
          problems.push(`_base: unknown field ${key}`);
          continue;
        }
        const parsed = parseValue({ ...field, optional: true }, value);
        if (!parsed.ok) problems.push(`_base: ${parsed.message}`);
        else item.base[key] = normalizeWire(field, value);
      }
    }
  }

  if (forbidden.length && !problems.length) {
    throw new ItemError(SyncErrorCode.FORBIDDEN_FIELD, `server-only field(s) cannot be written: ${forbidden.join(', ')}`);
  }
  if (forbidden.length) problems.push(`server-only field(s): ${forbidden.join(', ')}`);
  if (problems.length) throw new ItemError(SyncErrorCode.VALIDATION_FAILED, problems.join('; '));
  // Values of the right type that their column cannot hold: a code of their own, before any write.
  if (columnProblems.length) throw new ItemError(columnProblems[0].code, columnProblems.map((e) => e.message).join('; '));
  return item;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value its column's native type (`@db.VarChar(n)`, `@db.Uuid`) cannot hold, or undefined. */
export function nativeTypeProblem(field: FieldDescriptor, value: unknown): ItemError | undefined {
  if (typeof value !== 'string') return undefined;
  if (field.maxLength !== undefined) {
    const length = [...value].length;
    if (length > field.maxLength)
      return new ItemError(SyncErrorCode.VALUE_TOO_LONG, `${field.name}: ${length} characters, at most ${field.maxLength} fit (@db.VarChar(${field.maxLength}))`);
  }
  if (field.format === 'uuid' && !UUID_TEXT.test(value))
    return new ItemError(SyncErrorCode.INVALID_VALUE, `${field.name}: "${value.slice(0, 64)}" is not a UUID (@db.Uuid)`);
  return undefined;
}

/** Required on create: non-nullable, no default, not server-only. */
export function missingRequired(d: EntityDescriptor, item: ParsedItem): string[] {
  return d.fields
    .filter((f) => f.access !== 'ignore' && !f.optional && !f.hasDefault)
    .filter((f) => !(f.name in item.data) && !(f.name in item.readonlyData))
    .map((f) => f.name);
}
