/**
 * trackhub-gen/runtime/client under Node (the `node` export condition): the
 * whole client runtime, with WatermelonDB's SQLite adapter on better-sqlite3
 * as the default adapter, so `dbDir` alone opens `<dbDir>/trackhub_db_{tenant}.db`,
 * SQLCipher files for `encryption`, and file databases in WAL mode (sqlite-cipher.ts).
 */
import { setDefaultAdapter } from './database.js';
import { setCipherSupport } from './cipher-support.js';
import { sqliteAdapter } from './sqlite.js';
import { nodeCipherSupport, patchNodeDriver } from './sqlite-cipher.js';

export * from './index.js';

setDefaultAdapter(sqliteAdapter());
setCipherSupport(nodeCipherSupport);
// File databases in WAL mode, SQLCipher files opened with their key (sqlite-cipher.ts).
patchNodeDriver();
