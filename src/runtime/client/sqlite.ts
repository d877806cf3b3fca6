/**
 * trackhub-gen/runtime/client/sqlite: WatermelonDB's SQLite adapter for a
 * tenant database. On React Native it opens the app's SQLite database (pass
 * `{ jsi: true }` once JSI is set up, as WatermelonDB's docs describe); in
 * Node it runs on better-sqlite3 (a peer dependency you install).
 *
 * Kept out of the main client entry so a browser bundle never reaches
 * better-sqlite3 or `fs`.
 */
import * as SQLiteAdapterModule from '@nozbe/watermelondb/adapters/sqlite/index.js';

import type { AdapterFactory } from './database.js';
import { unwrapDefault } from './watermelon.js';

export const SQLiteAdapter = unwrapDefault(SQLiteAdapterModule.default);
export type SQLiteAdapter = InstanceType<typeof SQLiteAdapter>;

export interface SqliteAdapterOptions {
  /** React Native: use the JSI bridge (faster; needs WatermelonDB's JSI installation steps). */
  jsi?: boolean;
  /** Called when the database cannot be set up (e.g. a failed migration). */
  onSetUpError?: (error: Error) => void;
}

/** An adapter factory for `createClient({ adapter })` / `createDatabase({ adapter })`. */
export function sqliteAdapter(options: SqliteAdapterOptions = {}): AdapterFactory {
  return (database) =>
    rebuildOnlyInsertedIndices(
      new SQLiteAdapter({
        dbName: database.dbName,
        schema: database.schema,
        ...(database.migrations ? { migrations: database.migrations } : {}),
        ...(options.jsi !== undefined ? { jsi: options.jsi } : {}),
        ...(options.onSetUpError ? { onSetUpError: options.onSetUpError } : {}),
      }),
    );
}

/** One operation of an encoded batch: cache behaviour (1: inserts rows of `table`), table, SQL, argument lists. */
type EncodedOperation = [number, string | null, string, unknown[][]];

// WatermelonDB's own index statements are lower case; the pull's (raw-insert.ts) are upper case and always kept.
const DROP_INDEX = /^drop index if exists "([^"]+)"$/;
const CREATE_INDEX = /^create index if not exists "([^"]+)" on "([^"]+)"/;

/**
 * WatermelonDB's SQLite adapter drops every index of every table before a batch of 1,000
 * operations or more, and creates them all again after it: cheaper for one large insert
 * into empty tables. On a device that holds data it rebuilds, on every such batch, the
 * indices of tables the batch never touches and of tables it only updates or deletes
 * from: settling a push of 10,000 changes rebuilt every index about 40 times (1.7 s of
 * the device's 2.9 s). And it rebuilds the indices of a table that already holds many more
 * rows than the batch inserts: a `createMany` of 1,000 records on a device with 50,000
 * (and as many queued changes) took 155 ms with the rebuilds and 23 ms without.
 *
 * With this, a batch rebuilds the indices of a table only when it inserts at least as many
 * rows into it as the table held before (one `count(*)` per such table first); every
 * other index is kept and updated row by row. Everything else about the batch is
 * unchanged. (Relies on the adapter's dispatcher and the encoded batch's shape,
 * WatermelonDB 0.28.)
 */
export function rebuildOnlyInsertedIndices<T extends SQLiteAdapter>(adapter: T): T {
  const dispatcher = (adapter as unknown as { _dispatcher?: { call(name: string, args: unknown[], callback: (result: unknown) => void): void } })._dispatcher;
  if (!dispatcher || typeof dispatcher.call !== 'function') return adapter;
  const call = dispatcher.call.bind(dispatcher);
  dispatcher.call = (name, args, callback) => {
    if (name !== 'batch' || !Array.isArray(args[0])) return call(name, args, callback);
    const operations = args[0] as EncodedOperation[];
    const inserted = insertedRows(operations);
    if (inserted.size === 0) return call(name, [withIndicesRebuiltFor(operations, new Set())], callback);
    // The batch runs after the counts: inside a writer, nothing else writes in between.
    const tables = [...inserted.keys()];
    const rebuild = new Set<string>();
    const next = (i: number): void => {
      if (i === tables.length) return call(name, [withIndicesRebuiltFor(operations, rebuild)], callback);
      const table = tables[i]!;
      call('count', [`select count(*) as "count" from "${table.replace(/"/g, '""')}"`, []], (result) => {
        const rows = (result as { value?: unknown } | null)?.value;
        if (typeof rows === 'number' && inserted.get(table)! >= rows) rebuild.add(table);
        next(i + 1);
      });
    };
    next(0);
  };
  return adapter;
}

const isIndexOp = (op: EncodedOperation): boolean => op[0] === 0 && op[1] === null && (DROP_INDEX.test(op[2]) || CREATE_INDEX.test(op[2]));

/** Rows each table gets from the batch's inserts, for the tables whose indices WatermelonDB put around it. */
function insertedRows(operations: EncodedOperation[]): Map<string, number> {
  const out = new Map<string, number>();
  if (!operations.some(isIndexOp)) return out;
  for (const op of operations) if (op[0] === 1 && op[1] !== null) out.set(op[1], (out.get(op[1]) ?? 0) + op[3].length);
  return out;
}

/** The batch with WatermelonDB's own index statements kept only for the tables in `rebuild`. */
export function withIndicesRebuiltFor(operations: EncodedOperation[], rebuild: ReadonlySet<string>): EncodedOperation[] {
  if (!operations.some(isIndexOp)) return operations;
  const kept = new Set<string>();
  for (const op of operations) {
    const m = isIndexOp(op) ? CREATE_INDEX.exec(op[2]) : null;
    if (m && rebuild.has(m[2]!)) kept.add(m[1]!);
  }
  return operations.filter((op) => !isIndexOp(op) || kept.has((DROP_INDEX.exec(op[2]) ?? CREATE_INDEX.exec(op[2]))![1]!));
}
