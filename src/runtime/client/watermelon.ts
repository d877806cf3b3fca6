/**
 * WatermelonDB entry points the runtime and the generated code use, imported
 * through paths that resolve under TypeScript's NodeNext, Node's own ESM loader,
 * bundlers (Vite, Metro) and CommonJS alike.
 *
 * Nothing here reaches a platform adapter: the SQLite adapter (better-sqlite3
 * in Node) lives in sqlite.ts, so this module bundles for a browser and React Native.
 *
 * WatermelonDB 0.28 is CommonJS with `exports.default`: an ESM default import
 * is the module object in Node but the default export under bundlers, so
 * default exports are unwrapped here, once.
 */
import * as loggerModule from '@nozbe/watermelondb/utils/common/logger/index.js';
import { setGenerator } from '@nozbe/watermelondb/utils/common/randomId/index.js';

export {
  addColumns,
  createTable,
  schemaMigrations,
  unsafeExecuteSql,
} from '@nozbe/watermelondb/Schema/migrations/index.js';
export {
  children,
  date,
  field,
  immutableRelation,
  json,
  lazy,
  nochange,
  readonly,
  reader,
  relation,
  text,
  writer,
} from '@nozbe/watermelondb/decorators/index.js';

/** `import x from 'cjs'` gives `{ default: x }` in Node's ESM loader and `x` under bundlers. */
export function unwrapDefault<T>(imported: T | { default: T }): T {
  const candidate = imported as { __esModule?: unknown; default?: T } | null;
  if (candidate !== null && typeof candidate === 'object' && candidate.__esModule === true && 'default' in candidate) {
    return candidate.default as T;
  }
  return imported as T;
}

export const watermelonLogger = unwrapDefault(loggerModule.default);
export { setGenerator as setWatermelonIdGenerator };
