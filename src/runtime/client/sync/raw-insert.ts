/**
 * The pull's fast path for new records: rows written with multi-row SQL INSERTs through
 * the SQLite adapter's `unsafeExecute` (one statement per ~60 rows) instead of one
 * WatermelonDB Model and one prepared statement per row. In the spirit of WatermelonDB's
 * Turbo Login, and only where it is safe:
 *
 * - the adapter runs SQL (SQLite on Node and React Native; never LokiJS);
 * - nothing observes the table (no query or collection subscriber): a row written
 *   this way builds no Model, so no observer would hear of it. An observed table takes
 *   the Model path, which notifies;
 * - the record is new: the caller looked it up (or knows the table holds only rows this
 *   pull wrote, none with its ids) and found no row and no waiting local operation.
 *
 * The row is exactly what the Model path writes (`sanitizedRaw` of the same raw columns,
 * the same column order as WatermelonDB's own insert), so a later read, update or sync
 * sees no difference. A row inserted here is in no JS record cache; the adapter hands it
 * over in full on the first query, like any row written by another process.
 *
 * Observation is checked when a group is applied: a subscriber that starts while that
 * group's INSERTs run reads the table at once (its first fetch) and may miss that one
 * group's rows until the next change of the table.
 */
import { Q, type Database, type TableName } from '@nozbe/watermelondb';
import { setRawSanitized } from '@nozbe/watermelondb/RawRecord/index.js';

import type { EntityDescriptor } from '../descriptors.js';
import type { EngineContext } from './context.js';
import { isSqlAdapter } from './ids.js';

/**
 * SQL variables per statement: 999 is the lowest SQLITE_MAX_VARIABLE_NUMBER a device's
 * SQLite may have been built with (before 3.32), so one statement fits everywhere.
 */
const MAX_VARIABLES = 999;

type Sql = [string, unknown[]];

/**
 * Whether anything observes `entity`'s table: a collection subscriber (simple queries,
 * `observe()`), a database subscriber for the table (reloading queries, counts) or a
 * `changes` subscriber. Reads WatermelonDB 0.28's subscriber lists; when they are not
 * where it expects them, it answers true (the Model path, which always notifies).
 */
export function isObserved(ctx: EngineContext, entity: EntityDescriptor): boolean {
  const collection = ctx.collection(entity) as unknown as { _subscribers?: unknown; changes?: { observed?: unknown } };
  const database = ctx.database as unknown as { _subscribers?: unknown };
  const own = collection._subscribers;
  const all = database._subscribers;
  if (!Array.isArray(own) || !Array.isArray(all)) return true;
  if (own.length > 0 || collection.changes?.observed === true) return true;
  return all.some((entry) => !Array.isArray(entry) || !Array.isArray(entry[0]) || (entry[0] as unknown[]).includes(entity.table));
}

/** The pull may write new records of `entity` with raw SQL now (see the header). */
export function canInsertRaw(ctx: EngineContext, entity: EntityDescriptor): boolean {
  return isSqlAdapter(ctx.database.adapter.underlyingAdapter) && !isObserved(ctx, entity);
}

/**
 * Where a raw row's column values come from: for each column of the table, the value
 * `prepareCreateFromDirtyRaw` would find in the dirty raw object (undefined: absent, as
 * null). `id` is always given; `_status` and `_changed` are never (WatermelonDB's
 * reserved columns), so every row has status `created` and no changed columns, as a
 * dirty raw without them gets.
 */
export type RowSource<T> = (column: string) => ((from: T) => unknown) | undefined;

/**
 * Multi-row INSERT statements of `count` rows into `entity`'s table. Each row is
 * what `sanitizedRaw` makes of the dirty raw `source` describes (WatermelonDB's own
 * sanitizer, `setRawSanitized`, column by column), written straight into the
 * statement's arguments: no object per row.
 */
export function insertStatements<T>(database: Database, entity: EntityDescriptor, rows: readonly T[], source: RowSource<T>, id: (from: T) => string): Sql[] {
  if (rows.length === 0) return [];
  const schema = database.schema.tables[entity.table as TableName<never>];
  if (!schema) throw new Error(`No table ${entity.table} in the database schema`);
  const columns = schema.columnArray;
  const perRow = columns.length + 3;
  const rowsPerStatement = Math.max(1, Math.floor(MAX_VARIABLES / perRow));
  const head = `insert into "${entity.table}" (${['id', '_status', '_changed', ...columns.map((c) => c.name)].map((c) => `"${c}"`).join(', ')}) values `;
  const tuple = `(${Array(perRow).fill('?').join(', ')})`;
  const getters = columns.map((c) => source(c.name));
  /** One object, its keys fixed: the sanitizer writes each value here, and it is read back at once. */
  const scratch: Record<string, unknown> = Object.fromEntries(columns.map((c) => [c.name, null]));
  const out: Sql[] = [];
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const end = Math.min(rows.length, start + rowsPerStatement);
    const args: unknown[] = [];
    for (let k = start; k < end; k++) {
      const row = rows[k]!;
      args.push(id(row), 'created', '');
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c]!;
        const value = getters[c]?.(row);
        setRawSanitized(scratch as never, column.name, value === undefined ? null : value, column);
        args.push(scratch[column.name]);
      }
    }
    out.push([head + Array(end - start).fill(tuple).join(', '), args]);
  }
  return out;
}

/**
 * The table's indices as WatermelonDB's schema creates them (one per `isIndexed` column,
 * and `_status`): the statements that drop them and the ones that create them again.
 * Writing many rows into an empty table and indexing them afterwards beats keeping
 * indices up to date row by row (random server ids land all over an index); WatermelonDB
 * does the same around a batch of 1,000 operations or more.
 */
export function indexStatements(database: Database, entity: EntityDescriptor): { drop: Sql[]; create: Sql[] } {
  const schema = database.schema.tables[entity.table as TableName<never>];
  if (!schema) throw new Error(`No table ${entity.table} in the database schema`);
  const names = [...schema.columnArray.filter((c) => c.isIndexed).map((c) => c.name), '_status'];
  // Upper-case keywords: the runtime's SQLite adapter (sqlite.ts) trims WatermelonDB's own
  // lower-case index statements from a batch, and must leave these alone.
  return {
    drop: names.map((c) => [`DROP INDEX IF EXISTS "${entity.table}_${c}"`, []]),
    create: names.map((c) => [`CREATE INDEX IF NOT EXISTS "${entity.table}_${c}" ON "${entity.table}" ("${c}")`, []]),
  };
}

/** Tables whose indices were checked since the database was opened (per Database). */
const indexed = new WeakMap<Database, Set<string>>();

/**
 * Creates whatever index of the table is missing, once per opened database: a pull that
 * stopped (the app was killed) while the indices were dropped for its INSERTs leaves them
 * missing; the next pull of the entity puts them back. Call inside a writer.
 */
export async function restoreIndices(database: Database, entity: EntityDescriptor): Promise<void> {
  let done = indexed.get(database);
  if (!done) indexed.set(database, (done = new Set()));
  if (done.has(entity.table)) return;
  await executeSql(database, indexStatements(database, entity).create);
  done.add(entity.table);
}

/** Runs `sqls` in one adapter transaction (call inside a writer). */
export async function executeSql(database: Database, sqls: Sql[]): Promise<void> {
  if (sqls.length === 0) return;
  await database.adapter.unsafeExecute({ sqls: sqls as [string, never[]][] });
}

/** Rows in `entity`'s table, whatever their status (SQL adapters only). */
export async function rowCount(ctx: EngineContext, entity: EntityDescriptor): Promise<number> {
  const rows = (await ctx.collection(entity)
    .query(Q.unsafeSqlQuery(`select count(*) as n from "${entity.table}"`))
    .unsafeFetchRaw()) as { n: number }[];
  return Number(rows[0]?.n ?? 0);
}
