/**
 * One WatermelonDB database per tenant, named `trackhub_db_{tenantId}`.
 *
 * The adapter comes from the app (`adapter`) or from the platform's default:
 * the `node` and `react-native` entries of `trackhub-gen/runtime/client`
 * register WatermelonDB's SQLite adapter (in Node on better-sqlite3, the file
 * `<dbDir>/trackhub_db_{tenantId}.db`, or in memory with `dbDir: ':memory:'`).
 * The browser entry registers none, so a bundle never pulls in a Node module:
 * pass `adapter` there (see `trackhub-gen/runtime/client/web`).
 */
import { Database } from '@nozbe/watermelondb';
import type { AppSchema, DatabaseAdapter, Model } from '@nozbe/watermelondb';
import type { SchemaMigrations } from '@nozbe/watermelondb/Schema/migrations/index.js';

import { installUuidV7Ids } from './ids.js';
import { nodeFs } from './node-builtins.js';
import { quietWatermelonLogs } from './logging.js';
import { runtimeModelClasses } from './tables.js';

export const IN_MEMORY = ':memory:';

export type ModelClass = typeof Model;

export interface AdapterFactoryOptions {
  /** `trackhub_db_{tenantId}`, or a path / `:memory:` when `dbDir` was given. */
  dbName: string;
  schema: AppSchema;
  migrations?: SchemaMigrations;
}

/** Builds the adapter of one tenant database. */
export type AdapterFactory = (options: AdapterFactoryOptions) => DatabaseAdapter;

let platformAdapter: AdapterFactory | null = null;

/**
 * The adapter used when the app passes none. Set once by the platform entry
 * (`node`, `react-native`); an app may set its own.
 */
export function setDefaultAdapter(factory: AdapterFactory | null): void {
  platformAdapter = factory;
}

export class AdapterRequiredError extends Error {
  constructor() {
    super(
      'No database adapter: this platform has no default. Pass `adapter`, e.g. ' +
        "`adapter: sqliteAdapter()` from 'trackhub-gen/runtime/client/sqlite' (React Native, Node) or " +
        "`adapter: webAdapter()` from 'trackhub-gen/runtime/client/web' (browser, IndexedDB)",
    );
    this.name = 'AdapterRequiredError';
  }
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
  adapter?: AdapterFactory;
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

/** Node only: create the database directory. */
function ensureDirectory(dir: string): void {
  nodeFs()?.mkdirSync(dir, { recursive: true });
}

/**
 * Node only: bytes the SQLite database file takes on disk (with its `-wal` /
 * `-journal` companions), or null (in memory, React Native, no such file).
 */
export function databaseFileSize(dbName: string): number | null {
  if (dbName === IN_MEMORY || !dbName.endsWith('.db')) return null;
  const fs = nodeFs();
  if (!fs) return null;
  const main = fs.statSync(dbName, { throwIfNoEntry: false });
  if (!main) return null;
  let total = main.size;
  for (const suffix of ['-wal', '-journal']) total += fs.statSync(dbName + suffix, { throwIfNoEntry: false })?.size ?? 0;
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
  const factory = options.adapter ?? platformAdapter;
  if (!factory) throw new AdapterRequiredError();
  const adapter = factory(adapterOptions);
  const modelClasses = [
    ...options.modelClasses,
    // A schema generated before a runtime table existed (sync_scopes) does not declare it: its model is left out.
    ...runtimeModelClasses.filter((m) => !options.modelClasses.includes(m) && m.table in options.schema.tables),
  ];
  return new Database({ adapter, modelClasses });
}
