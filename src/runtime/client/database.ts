/**
 * One WatermelonDB database per tenant, named `trackhub_db_{tenantId}`.
 *
 * The default adapter is WatermelonDB's SQLite adapter: on React Native it
 * opens the named database; in Node it runs on better-sqlite3 and the file is
 * `<dbDir>/trackhub_db_{tenantId}.db` (or in memory with `dbDir: ':memory:'`).
 */
import { Database } from '@nozbe/watermelondb';
import type { AppSchema, DatabaseAdapter, Model } from '@nozbe/watermelondb';
import type { SchemaMigrations } from '@nozbe/watermelondb/Schema/migrations/index.js';

import { installUuidV7Ids } from './ids.js';
import { quietWatermelonLogs } from './logging.js';
import { runtimeModelClasses } from './tables.js';
import { SQLiteAdapter } from './watermelon.js';

export const IN_MEMORY = ':memory:';

export type ModelClass = typeof Model;

export interface AdapterFactoryOptions {
  /** `trackhub_db_{tenantId}`, or a path / `:memory:` when `dbDir` was given. */
  dbName: string;
  schema: AppSchema;
  migrations?: SchemaMigrations;
}

export interface TenantDatabaseOptions {
  tenantId: string;
  /** Node: directory of the database file, or `':memory:'`. Omit on React Native. */
  dbDir?: string;
  schema: AppSchema;
  migrations?: SchemaMigrations;
  /** Entity model classes; the runtime's own models are added. */
  modelClasses: ModelClass[];
  /** Build another adapter (e.g. SQLite with `jsi: true` on React Native, LokiJS on the web). */
  adapter?: (options: AdapterFactoryOptions) => DatabaseAdapter;
  /** Silence WatermelonDB's setup chatter (default true). */
  quiet?: boolean;
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** `trackhub_db_{tenantId}`; refuses tenant ids that are unsafe in a file name. */
export function tenantDatabaseName(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) {
    throw new Error(
      `Invalid tenant id ${JSON.stringify(tenantId)}: use letters, digits, '_', '-' or '.' (at most 128)`,
    );
  }
  return `trackhub_db_${tenantId}`;
}

/** The adapter's `dbName` for a tenant: `:memory:`, `<dbDir>/trackhub_db_{tenantId}.db`, or the bare name. */
export function tenantDbName(tenantId: string, dbDir?: string): string {
  const name = tenantDatabaseName(tenantId);
  if (dbDir === undefined) return name;
  if (dbDir === IN_MEMORY) return IN_MEMORY;
  return `${dbDir.replace(/[\\/]+$/, '')}/${name}.db`;
}

/** Node only: create the database directory (no static `node:fs` import, so bundlers for React Native are unaffected). */
function ensureDirectory(dir: string): void {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as
    { mkdirSync(path: string, options: { recursive: true }): unknown } | undefined;
  fs?.mkdirSync(dir, { recursive: true });
}

/**
 * Node only: bytes the SQLite database file takes on disk (with its `-wal` /
 * `-journal` companions), or null (in memory, React Native, no such file).
 */
export function databaseFileSize(dbName: string): number | null {
  if (dbName === IN_MEMORY || !dbName.endsWith('.db')) return null;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as
    | {
        statSync(path: string, options: { throwIfNoEntry: false }): { size: number } | undefined;
      }
    | undefined;
  if (!fs) return null;
  const main = fs.statSync(dbName, { throwIfNoEntry: false });
  if (!main) return null;
  let total = main.size;
  for (const suffix of ['-wal', '-journal'])
    total += fs.statSync(dbName + suffix, { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

export function createTenantDatabase(options: TenantDatabaseOptions): Database {
  if (options.quiet !== false) quietWatermelonLogs();
  installUuidV7Ids();
  const dbName = tenantDbName(options.tenantId, options.dbDir);
  if (options.dbDir !== undefined && options.dbDir !== IN_MEMORY && !options.adapter) ensureDirectory(options.dbDir);
  const adapterOptions: AdapterFactoryOptions = {
    dbName,
    schema: options.schema,
    ...(options.migrations ? { migrations: options.migrations } : {}),
  };
  const adapter = options.adapter
    ? options.adapter(adapterOptions)
    : new SQLiteAdapter({ ...adapterOptions, ...(options.migrations ? { migrations: options.migrations } : {}) });
  const modelClasses = [
    ...options.modelClasses,
    ...runtimeModelClasses.filter((m) => !options.modelClasses.includes(m)),
  ];
  return new Database({ adapter, modelClasses });
}
