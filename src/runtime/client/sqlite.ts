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
 * the device's 2.9 s). With this, a batch rebuilds only the indices of the tables it
 * inserts rows into; everything else about the batch is unchanged. (Relies on the
 * adapter's dispatcher and the encoded batch's shape, WatermelonDB 0.28.)
 */
export function rebuildOnlyInsertedIndices<T extends SQLiteAdapter>(adapter: T): T {
  const dispatcher = (adapter as unknown as { _dispatcher?: { call(name: string, args: unknown[], callback: unknown): void } })._dispatcher;
  if (!dispatcher || typeof dispatcher.call !== 'function') return adapter;
  const call = dispatcher.call.bind(dispatcher);
  dispatcher.call = (name, args, callback) => call(name, name === 'batch' && Array.isArray(args[0]) ? [withInsertedIndicesOnly(args[0] as EncodedOperation[])] : args, callback);
  return adapter;
}

export function withInsertedIndicesOnly(operations: EncodedOperation[]): EncodedOperation[] {
  const isIndexOp = (op: EncodedOperation) => op[0] === 0 && op[1] === null && (DROP_INDEX.test(op[2]) || CREATE_INDEX.test(op[2]));
  if (!operations.some(isIndexOp)) return operations;
  const inserted = new Set(operations.filter((op) => op[0] === 1 && op[1] !== null).map((op) => op[1]!));
  const kept = new Set<string>();
  for (const op of operations) {
    const m = isIndexOp(op) ? CREATE_INDEX.exec(op[2]) : null;
    if (m && inserted.has(m[2]!)) kept.add(m[1]!);
  }
  return operations.filter((op) => !isIndexOp(op) || kept.has((DROP_INDEX.exec(op[2]) ?? CREATE_INDEX.exec(op[2]))![1]!));
}
