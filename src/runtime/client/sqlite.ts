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
    new SQLiteAdapter({
      dbName: database.dbName,
      schema: database.schema,
      ...(database.migrations ? { migrations: database.migrations } : {}),
      ...(options.jsi !== undefined ? { jsi: options.jsi } : {}),
      ...(options.onSetUpError ? { onSetUpError: options.onSetUpError } : {}),
    });
}
