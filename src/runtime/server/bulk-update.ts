/**
 * Bulk guarded updates for a batched push: the updates and deletes of one chunk,
 * written in one SQL statement per set of columns instead of one `updateMany` each.
 *
 * Each row keeps its own optimistic guard: the statement changes a row only where
 * the id, the tenant and the version the item was decided against all still match
 * (`t.version = v.version - 1`). The statement's row count must equal the number of
 * rows; anything less means another writer got there first, and the caller rolls the
 * whole chunk back and applies it item by item (sync.service.ts), which reports
 * exactly what the one-by-one path reports.
 *
 * Only where the statement writes what Prisma would write:
 * - PostgreSQL through `@prisma/adapter-pg`: the rows travel as one JSON parameter
 *   and `json_populate_recordset(NULL::table, ...)` gives every value the column's
 *   own type (text, uuid, enum, timestamp, jsonb, ...). The schema is the model's
 *   `@@schema`, else the adapter's `schema` option, else `public`, as Prisma's own.
 * - SQLite through `@prisma/adapter-better-sqlite3` or `@prisma/adapter-libsql`:
 *   the rows travel as bound parameters of a `VALUES` list, so the adapter encodes
 *   dates and booleans as it does for Prisma's own queries.
 * - Entities whose descriptor has `storage` (the generator leaves it out when a
 *   column needs Prisma's own encoding).
 * Anything else (another adapter, a client without `$executeRawUnsafe`) keeps one
 * guarded `updateMany` per update.
 */
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { ServerId } from './ids.js';
import { isPrismaDbNull, type Row } from './prisma.js';
import { tenantValue } from './tenant.js';

/** How bulk statements are written for a client, or null when they are not. */
export type BulkDialect = { kind: 'postgresql'; schema: string } | { kind: 'sqlite' };

const SQLITE_ADAPTERS = new Set(['@prisma/adapter-better-sqlite3', '@prisma/adapter-libsql']);

/** The dialect of a PrismaClient (read once per client), or null when bulk updates do not apply. */
export function bulkDialectOf(prisma: unknown): BulkDialect | null {
  const config = (prisma as { _engineConfig?: { adapter?: { adapterName?: unknown; provider?: unknown; options?: { schema?: unknown } } } })
    ?._engineConfig;
  const adapter = config?.adapter;
  if (!adapter || typeof (prisma as { $executeRawUnsafe?: unknown }).$executeRawUnsafe !== 'function') return null;
  if (adapter.adapterName === '@prisma/adapter-pg' && adapter.provider === 'postgres') {
    const schema = adapter.options?.schema;
    return { kind: 'postgresql', schema: typeof schema === 'string' && schema ? schema : 'public' };
  }
  if (typeof adapter.adapterName === 'string' && SQLITE_ADAPTERS.has(adapter.adapterName) && adapter.provider === 'sqlite') return { kind: 'sqlite' };
  return null;
}

/** A chunk's bulk updates: the dialect, and the fields whose change keeps an update one by one. */
export interface BulkPlan {
  dialect: BulkDialect;
  keepSingle: readonly string[];
}

/** One deferred guarded update: the row it was decided against and what it writes. */
export interface PendingUpdate {
  d: EntityDescriptor;
  principal: Principal;
  id: ServerId;
  /** The version the item was decided against; the row gets version + 1. */
  version: number;
  data: Row;
  stamp: Date;
}

/** Can `data` of `d` go into a bulk statement (every field has a column)? */
export function bulkWritable(d: EntityDescriptor, data: Row): boolean {
  const columns = d.storage?.columns;
  if (!columns || !columns.id || !columns.version || !columns.updatedAt) return false;
  if (d.tenantField && !columns[d.tenantField]) return false;
  return Object.keys(data).every((k) => k in columns && k !== 'id' && k !== 'version' && k !== 'updatedAt');
}

/** Rows per statement: PostgreSQL gets one JSON parameter; SQLite stays far below its 32766 bound parameters. */
export const PG_ROWS = 1000;
export const SQLITE_PARAMS = 8000;

/**
 * Writes updates of one entity that set the same fields, in as few statements as the
 * limits allow. Throws when a row's guard did not hold (the caller redoes the chunk).
 */
export async function writeBulkUpdates(client: unknown, dialect: BulkDialect, group: readonly PendingUpdate[]): Promise<void> {
  if (group.length === 0) return;
  const d = group[0]!.d;
  const fields = Object.keys(group[0]!.data);
  const perStatement = dialect.kind === 'postgresql' ? PG_ROWS : Math.max(1, Math.floor(SQLITE_PARAMS / (fields.length + 4)));
  const exec = (client as { $executeRawUnsafe(sql: string, ...args: unknown[]): Promise<number> }).$executeRawUnsafe.bind(client);
  for (let i = 0; i < group.length; i += perStatement) {
    const part = group.slice(i, i + perStatement);
    const { sql, args } = dialect.kind === 'postgresql' ? postgresStatement(d, dialect.schema, fields, part) : sqliteStatement(d, fields, part);
    const count = await exec(sql, ...args);
    if (count !== part.length) {
      throw new Error(`bulk update of ${d.name}: ${count} of ${part.length} rows still at the version read (another writer got there first)`);
    }
  }
}

export const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The written fields and the guard columns, in statement order: written fields first. */
function layout(d: EntityDescriptor, fields: readonly string[]): { set: string[]; guard: Array<[string, string]> } {
  const columns = d.storage!.columns;
  const set = [...fields, 'version', 'updatedAt'];
  const guard: Array<[string, string]> = [['id', columns.id!]];
  if (d.tenantField) guard.push(['tenant', columns[d.tenantField]!]);
  return { set, guard };
}

function postgresStatement(d: EntityDescriptor, schema: string, fields: readonly string[], part: readonly PendingUpdate[]) {
  const columns = d.storage!.columns;
  const table = `${quote(d.storage!.schema ?? schema)}.${quote(d.storage!.table)}`;
  const { set } = layout(d, fields);
  const rows = part.map((u) => {
    const row: Record<string, unknown> = { [columns.id!]: u.id };
    if (d.tenantField) row[columns[d.tenantField]!] = tenantValue(d, u.principal);
    for (const f of fields) row[columns[f]!] = jsonValue(u.data[f]);
    row[columns.version!] = u.version + 1;
    row[columns.updatedAt!] = u.stamp.toISOString();
    return row;
  });
  const assignments = set.map((f) => `${quote(columns[f]!)} = v.${quote(columns[f]!)}`).join(', ');
  const where = [
    `t.${quote(columns.id!)} = v.${quote(columns.id!)}`,
    ...(d.tenantField ? [`t.${quote(columns[d.tenantField]!)} = v.${quote(columns[d.tenantField]!)}`] : []),
    `t.${quote(columns.version!)} = v.${quote(columns.version!)} - 1`,
  ].join(' AND ');
  return {
    sql: `UPDATE ${table} AS t SET ${assignments} FROM json_populate_recordset(NULL::${table}, $1::json) AS v WHERE ${where}`,
    args: [JSON.stringify(rows)],
  };
}

function sqliteStatement(d: EntityDescriptor, fields: readonly string[], part: readonly PendingUpdate[]) {
  const columns = d.storage!.columns;
  const { set, guard } = layout(d, fields);
  // v(c0, c1, ...): the guard columns, then the written ones (positional names: no quoting of user names inside the CTE).
  const names = [...guard.map(([k]) => k), ...set];
  const cte = names.map((_, i) => `c${i}`);
  const args: unknown[] = [];
  for (const u of part) {
    args.push(u.id);
    if (d.tenantField) args.push(tenantValue(d, u.principal));
    for (const f of fields) args.push(sqliteValue(d, f, u.data[f]));
    args.push(u.version + 1, u.stamp);
  }
  const tuple = `(${cte.map(() => '?').join(', ')})`;
  const assignments = set.map((f, i) => `${quote(columns[f]!)} = v.c${guard.length + i}`).join(', ');
  const where = [
    ...guard.map(([, column], i) => `t.${quote(column)} = v.c${i}`),
    `t.${quote(columns.version!)} = v.c${names.indexOf('version')} - 1`,
  ].join(' AND ');
  return {
    sql: `WITH v(${cte.join(', ')}) AS (VALUES ${part.map(() => tuple).join(', ')}) UPDATE ${quote(d.storage!.table)} AS t SET ${assignments} FROM v WHERE ${where}`,
    args,
  };
}

/** A value as json_populate_recordset reads it into the column's type. */
export function jsonValue(value: unknown): unknown {
  if (value === undefined || isPrismaDbNull(value)) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** A value as the SQLite adapter binds it for Prisma: a Json field is its JSON text. */
export function sqliteValue(d: EntityDescriptor, field: string, value: unknown): unknown {
  if (value === undefined || isPrismaDbNull(value)) return null;
  const kind = d.fields.find((f) => f.name === field)?.kind;
  if (kind === 'Json') return JSON.stringify(value);
  return value;
}
