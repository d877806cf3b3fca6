/**
 * trackhub-gen/runtime/client under Node (the `node` export condition): the
 * whole client runtime, with WatermelonDB's SQLite adapter on better-sqlite3
 * as the default adapter, so `dbDir` alone opens `<dbDir>/trackhub_db_{tenant}.db`.
 */
import { setDefaultAdapter } from './database.js';
import { sqliteAdapter } from './sqlite.js';

export * from './index.js';

setDefaultAdapter(sqliteAdapter());
