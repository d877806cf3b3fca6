/**
 * Bulk INSERTs for a batched push: the creates of one run of one entity written with
 * one SQL statement per up to 1,000 rows, then read back with one `findMany`, instead of
 * Prisma's `createManyAndReturn`. Prisma compiles a `createMany*` query afresh for every
 * call, and for a few hundred rows that costs several times the database's own work
 * (docs/benchmarks.md, "Bulk INSERTs").
 *
 * The rows stored are the ones Prisma would store:
 * - every column a create leaves out gets what Prisma's client would give it, from the
 *   generator's list (`storage.insert.defaults`: a v4 UUID, the time of the write, a
 *   literal), or the database's own default when the column is left out of the statement;
 * - the values are encoded as for the bulk updates (bulk-update.ts), through the same
 *   adapter: PostgreSQL reads them with `json_populate_recordset` into the columns' own
 *   types, SQLite binds them as Prisma's adapter binds its own queries;
 * - the rows handed back are Prisma's own, read with `findMany` by (tenant, clientId).
 *
 * Only where that holds: a dialect from `bulkDialectOf`, an entity whose descriptor has
 * `storage.insert` (the generator leaves it out when a default cannot be reproduced), and
 * a run whose every field has a column and leaves no database-filled column half set.
 * Anything the database refuses (a unique key, a foreign key, a NOT NULL) throws; the
 * caller then rolls the chunk back and applies it item by item through Prisma, which
 * reports the per-item error (sync.service.ts).
 */
import { randomUUID } from 'node:crypto';

import { jsonValue, quote, sqliteValue, type BulkDialect, PG_ROWS, SQLITE_PARAMS } from './bulk-update.js';
import type { EntityDescriptor } from './descriptor.js';
import { delegateOf, type Row } from './prisma.js';

/** The statement's columns for `rows` (field names), or null when the run must go through Prisma. */
export function insertLayout(d: EntityDescriptor, rows: readonly Row[]): string[] | null {
  const insert = d.storage?.insert;
  if (!insert || rows.length === 0) return null;
  const columns = insertColumns(d);
  const set = new Set<string>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (v === undefined) continue;
      // Every field needs a column; an object is a date or a Json value (not a nested write such as `connect`).
      if (!(k in columns) || (typeof v === 'object' && v !== null && !(v instanceof Date) && !isJson(d, k))) return null;
      set.add(k);
    }
  }
  // A column the database fills (autoincrement, dbgenerated) set by some rows only: the others would get NULL.
  for (const k of set) if (!(k in insert.defaults) && hasDatabaseDefault(d, k) && rows.some((r) => r[k] === undefined)) return null;
  for (const k of Object.keys(insert.defaults)) set.add(k);
  if (!set.has('clientId')) return null;
  return [...set];
}

/**
 * Inserts `rows` (Prisma create data of `d`, one principal's, each with its clientId) as
 * laid out by `insertLayout`, and returns the stored rows (in no particular order: the
 * caller matches them by clientId, as it does `createManyAndReturn`'s).
 */
export async function writeBulkInserts(client: unknown, dialect: BulkDialect, d: EntityDescriptor, fields: readonly string[], rows: readonly Row[]): Promise<Row[]> {
  const insert = d.storage!.insert!;
  const columns = insertColumns(d);
  const now = new Date();
  const full = rows.map((row) => {
    const out: Row = {};
    for (const f of fields) {
      const given = row[f];
      const fallback = insert.defaults[f];
      // Left out with no default of Prisma's client: undefined, which the encoders write as SQL NULL.
      out[f] = given !== undefined ? given : fallback === undefined ? undefined : fallback === 'uuid' ? randomUUID() : fallback === 'now' ? now : fallback.value;
    }
    return out;
  });
  const exec = (client as { $executeRawUnsafe(sql: string, ...args: unknown[]): Promise<number> }).$executeRawUnsafe.bind(client);
  const perStatement = dialect.kind === 'postgresql' ? PG_ROWS : Math.max(1, Math.floor(SQLITE_PARAMS / fields.length));
  const list = fields.map((f) => quote(columns[f]!)).join(', ');
  for (let i = 0; i < full.length; i += perStatement) {
    const part = full.slice(i, i + perStatement);
    if (dialect.kind === 'postgresql') {
      const table = `${quote(d.storage!.schema ?? dialect.schema)}.${quote(d.storage!.table)}`;
      const json = part.map((row) => Object.fromEntries(fields.map((f) => [columns[f]!, jsonValue(row[f])])));
      await exec(`INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, $1::json)`, JSON.stringify(json));
    } else {
      const tuple = `(${fields.map(() => '?').join(', ')})`;
      const args = part.flatMap((row) => fields.map((f) => sqliteValue(d, f, row[f])));
      await exec(`INSERT INTO ${quote(d.storage!.table)} (${list}) VALUES ${part.map(() => tuple).join(', ')}`, ...args);
    }
  }
  // Prisma's own rows (every field, Prisma's types), by the keys just written.
  const tenant = d.tenantField ? { [d.tenantField]: full[0]![d.tenantField] } : {};
  const clientIds = full.map((row) => row.clientId as string);
  return delegateOf(client, d.delegate).findMany({ where: { AND: [tenant, { clientId: { in: clientIds } }] } });
}

/** Field -> column of everything a create may write: the update columns and the insert's own. */
const insertColumns = (d: EntityDescriptor): Readonly<Record<string, string>> => ({ ...d.storage!.columns, ...d.storage!.insert!.columns });
const isJson = (d: EntityDescriptor, field: string): boolean => d.fields.some((f) => f.name === field && f.kind === 'Json');
const hasDatabaseDefault = (d: EntityDescriptor, field: string): boolean => d.fields.some((f) => f.name === field && f.hasDefault);
