/**
 * trackhub-gen/runtime/client under React Native (the `react-native` export
 * condition): the whole client runtime, with WatermelonDB's SQLite adapter as
 * the default. Pass `adapter: sqliteAdapter({ jsi: true })` (from
 * `trackhub-gen/runtime/client/sqlite`) to use JSI.
 */
import { setDefaultAdapter } from './database.js';
import { sqliteAdapter } from './sqlite.js';

export * from './index.js';

setDefaultAdapter(sqliteAdapter());
