/**
 * The yardsticks' adapter: WatermelonDB's SQLite adapter as it comes, without the
 * runtime's change to large batches (`rebuildOnlyInsertedIndices`, sqlite.ts), so that
 * "WatermelonDB's own database.batch / synchronize()" is WatermelonDB's. (The Node
 * driver's statement cache and WAL mode are process-wide: both sides share them.)
 */
import type { AdapterFactory } from 'trackhub-gen/runtime/client';
import { SQLiteAdapter } from 'trackhub-gen/runtime/client/sqlite';

export const stockSqliteAdapter: AdapterFactory = (database) =>
  new SQLiteAdapter({ dbName: database.dbName, schema: database.schema, ...(database.migrations ? { migrations: database.migrations } : {}) });
