/**
 * Creating tables offline with Prisma's WebAssembly schema engine
 * (`@prisma/schema-engine-wasm`), driven through a driver adapter.
 *
 * The package entry (`schema_engine.js`) imports the `.wasm` file as an ES
 * module, which Node 20 cannot do; so we import `schema_engine_bg.js`,
 * instantiate `schema_engine_bg.wasm` ourselves, then call `__wbg_set_wasm` and
 * `__wbindgen_start` (exactly what `@prisma/internals` does). The instance is
 * created once per process (cached on `globalThis`, so also shared by vitest's
 * per-file module graphs) and calls into it are serialised.
 *
 * SQLite: the engine's `reset` is NOT usable through the wasm build with
 * `@prisma/adapter-better-sqlite3` 7.10.0 on a database that already has
 * tables: it runs `DELETE FROM Group` (unquoted, a syntax error for a model
 * named `Group`) and its fallback sends several statements to `executeRaw`,
 * which better-sqlite3 rejects. So we reset in place ourselves (drop every
 * table/view) and then call `schemaPush`.
 *
 * PostgreSQL: `schemaPush` fails with adapter-pg 7.10.0 ("Column type 'char'
 * could not be deserialized", from introspection), so we ask the engine for
 * the DDL (`diff` from empty to the datamodel, `script: true`) and run it with
 * `pg`, after dropping and recreating the `public` schema, in one transaction.
 *
 * Both pushes record a marker of the pushed schema in the database (SQLite:
 * `PRAGMA user_version`; PostgreSQL: `COMMENT ON SCHEMA public`), invisible to
 * Prisma, so `ensureSchema*` can skip the push when the schema is unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);

type EngineFilters = { externalTables: string[]; externalEnums: string[] };
const NO_FILTERS: EngineFilters = { externalTables: [], externalEnums: [] };

interface WasmSchemaEngine {
  free(): void;
  schemaPush(input: {
    force: boolean;
    schema: { files: Array<{ path: string; content: string }> };
    filters: EngineFilters;
  }): Promise<{ executedSteps: number; unexecutable: string[]; warnings: string[] }>;
  diff(params: {
    from: unknown;
    to: unknown;
    script: boolean;
    exitCode: boolean | null;
    filters: EngineFilters;
  }): Promise<{ exitCode: number; stdout: string | null }>;
}

interface WasmSchemaEngineClass {
  new: (
    options: { datamodels: Array<[string, string]> },
    debug: (message: string) => void,
    adapter: object,
  ) => Promise<WasmSchemaEngine>;
}

interface EngineCache {
  engineClass?: Promise<WasmSchemaEngineClass>;
  queue: Promise<unknown>;
}

const CACHE_KEY = Symbol.for('trackhub-gen.prisma.schema-engine-wasm');

function cache(): EngineCache {
  const g = globalThis as unknown as Record<symbol, EngineCache | undefined>;
  return (g[CACHE_KEY] ??= { queue: Promise.resolve() });
}

async function instantiate(): Promise<WasmSchemaEngineClass> {
  // `./schema_engine_bg` is an exported subpath; resolve it to a file path.
  const bgJs = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const runtime = (await import(pathToFileURL(bgJs).href)) as {
    __wbg_set_wasm(exports: WebAssembly.Exports): void;
    SchemaEngine: WasmSchemaEngineClass;
  };
  const bytes = readFileSync(path.join(path.dirname(bgJs), 'schema_engine_bg.wasm'));
  const module = await WebAssembly.compile(bytes);
  // The engine arms 60 s timers (e.g. during schemaPush on SQLite) that it never
  // clears; they would keep a one-shot script alive for a minute. Unref them.
  const imports: Record<string, unknown> = { ...runtime };
  for (const name of Object.keys(imports)) {
    if (!name.startsWith('__wbg_setTimeout_')) continue;
    const original = imports[name] as (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
    imports[name] = (fn: () => void, ms: number) => {
      const timer = original(fn, ms);
      (timer as { unref?: () => void }).unref?.();
      return timer;
    };
  }
  const instance = await WebAssembly.instantiate(module, {
    './schema_engine_bg.js': imports as WebAssembly.ModuleImports,
  });
  runtime.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return runtime.SchemaEngine;
}

/** The process-wide wasm SchemaEngine class (instantiated on first use). */
export function loadSchemaEngineWasm(): Promise<WasmSchemaEngineClass> {
  const c = cache();
  c.engineClass ??= instantiate().catch((error) => {
    c.engineClass = undefined;
    throw error;
  });
  return c.engineClass;
}

/**
 * Runs `fn` with a fresh engine for `schemaText` over `adapterFactory`; calls are
 * serialised per process and the engine and every connection it opened are released.
 */
async function withEngine<T>(
  schemaText: string,
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: WasmSchemaEngine) => Promise<T>,
): Promise<T> {
  const c = cache();
  const run = async () => {
    const SchemaEngine = await loadSchemaEngineWasm();
    const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils') as typeof import('@prisma/driver-adapter-utils');
    const opened: Array<{ dispose(): Promise<void> }> = [];
    const tracking: SqlMigrationAwareDriverAdapterFactory = {
      provider: adapterFactory.provider,
      adapterName: adapterFactory.adapterName,
      connect: async () => {
        const conn = await adapterFactory.connect();
        opened.push(conn);
        return conn;
      },
      connectToShadowDb: async () => {
        const conn = await adapterFactory.connectToShadowDb();
        opened.push(conn);
        return conn;
      },
    };
    const engine = await SchemaEngine.new(
      { datamodels: [[SCHEMA_FILE_NAME, schemaText]] },
      () => {},
      bindMigrationAwareSqlAdapterFactory(tracking),
    );
    try {
      return await fn(engine);
    } finally {
      engine.free();
      for (const conn of opened) await conn.dispose().catch(() => {});
    }
  };
  const result = c.queue.then(run, run);
  c.queue = result.catch(() => {});
  return result;
}

const SCHEMA_FILE_NAME = 'schema.prisma';

/** A stable fingerprint of a schema text (used as the "pushed schema" marker). */
export function schemaFingerprint(schemaText: string): string {
  return createHash('sha256').update(schemaText).digest('hex');
}

// --- SQLite ------------------------------------------------------------------------

function sqlitePath(dbFile: string): string {
  const file = dbFile.replace(/^file:/, '');
  if (file === '' || file === ':memory:' || file.startsWith('file::memory:') || file.includes('mode=memory')) {
    throw new Error(
      'pushSchemaSqlite needs a database FILE path: an in-memory SQLite database lives only as long as ' +
        'its connection, and the schema engine and the Prisma client each open their own connection.',
    );
  }
  return path.resolve(file);
}

/** `PRAGMA user_version` value that marks a pushed schema (non-zero 31-bit int). */
function sqliteMarker(schemaText: string): number {
  return (parseInt(schemaFingerprint(schemaText).slice(0, 8), 16) & 0x7fffffff) || 1;
}

type BetterSqliteCtor = typeof import('better-sqlite3');

function openSqlite(file: string) {
  const Database = require('better-sqlite3') as BetterSqliteCtor;
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Drops every table and view (and with them indexes and triggers); the file itself is kept. */
function resetSqlite(file: string): void {
  const db = openSqlite(file);
  try {
    const objects = db
      .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ type: string; name: string }>;
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      for (const o of objects.filter((x) => x.type === 'view')) db.exec(`DROP VIEW IF EXISTS "${o.name.replace(/"/g, '""')}"`);
      for (const o of objects.filter((x) => x.type === 'table')) db.exec(`DROP TABLE IF EXISTS "${o.name.replace(/"/g, '""')}"`);
      const hasSequence = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
      if (hasSequence) db.exec('DELETE FROM sqlite_sequence');
    })();
    db.pragma('user_version = 0');
  } finally {
    db.close();
  }
}

/**
 * Creates the tables of `schemaText` (a `sqlite` schema) in the SQLite file `dbFile`,
 * after dropping everything in it. The file and its directory are created if missing.
 * `:memory:` is rejected (see {@link sqlitePath}): use a file, e.g. in `os.tmpdir()`.
 */
export async function pushSchemaSqlite(schemaText: string, dbFile: string): Promise<void> {
  const file = sqlitePath(dbFile);
  mkdirSync(path.dirname(file), { recursive: true });
  resetSqlite(file);
  const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3') as typeof import('@prisma/adapter-better-sqlite3');
  const result = await withEngine(schemaText, new PrismaBetterSqlite3({ url: file }), (engine) =>
    engine.schemaPush({
      force: true,
      schema: { files: [{ path: SCHEMA_FILE_NAME, content: schemaText }] },
      filters: NO_FILTERS,
    }),
  );
  if (result.unexecutable.length > 0) {
    throw new Error(`schemaPush could not execute: ${result.unexecutable.join('; ')}`);
  }
  const db = openSqlite(file);
  try {
    db.pragma(`user_version = ${sqliteMarker(schemaText)}`);
  } finally {
    db.close();
  }
}

/**
 * Brings a development SQLite database to `schemaText` the way `prisma db push`
 * does: an unchanged schema is left alone, a change that loses no data (a new
 * table, a new optional column) is applied in place, anything else recreates
 * the database. Returns what happened and, when recreated, the engine's reason.
 */
export async function evolveSchemaSqlite(schemaText: string, dbFile: string): Promise<{ outcome: 'current' | 'created' | 'migrated' | 'recreated'; reason?: string }> {
  const file = sqlitePath(dbFile);
  if (sqliteSchemaIsCurrent(schemaText, file)) return { outcome: 'current' };
  if (!existsSync(file)) {
    await pushSchemaSqlite(schemaText, file);
    return { outcome: 'created' };
  }
  const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3') as typeof import('@prisma/adapter-better-sqlite3');
  const result = await withEngine(schemaText, new PrismaBetterSqlite3({ url: file }), (engine) =>
    engine.schemaPush({ force: false, schema: { files: [{ path: SCHEMA_FILE_NAME, content: schemaText }] }, filters: NO_FILTERS }),
  );
  const problems = [...result.warnings, ...result.unexecutable];
  if (problems.length > 0) {
    await pushSchemaSqlite(schemaText, file);
    return { outcome: 'recreated', reason: problems.join('; ') };
  }
  const db = openSqlite(file);
  try {
    db.pragma(`user_version = ${sqliteMarker(schemaText)}`);
  } finally {
    db.close();
  }
  return { outcome: 'migrated' };
}

/** True when `dbFile` exists and was last pushed with exactly `schemaText`. */
export function sqliteSchemaIsCurrent(schemaText: string, dbFile: string): boolean {
  const file = sqlitePath(dbFile);
  let db;
  try {
    const Database = require('better-sqlite3') as BetterSqliteCtor;
    db = new Database(file, { fileMustExist: true, readonly: true });
  } catch {
    return false;
  }
  try {
    return db.pragma('user_version', { simple: true }) === sqliteMarker(schemaText);
  } finally {
    db.close();
  }
}

/** Pushes the schema unless the database already has exactly this schema. Returns whether it pushed. */
export async function ensureSchemaSqlite(schemaText: string, dbFile: string): Promise<boolean> {
  if (sqliteSchemaIsCurrent(schemaText, dbFile)) return false;
  await pushSchemaSqlite(schemaText, dbFile);
  return true;
}

// --- PostgreSQL --------------------------------------------------------------------

const PG_MARKER_PREFIX = 'trackhub-gen schema ';

/** The DDL that creates `schemaText` (a `postgresql` schema) from an empty database. */
export async function postgresDdl(schemaText: string, connectionString: string): Promise<string> {
  const pg = require('pg') as typeof import('pg');
  const { PrismaPg } = require('@prisma/adapter-pg') as typeof import('@prisma/adapter-pg');
  const pool = new pg.Pool({ connectionString, max: 2 });
  try {
    const diff = await withEngine(schemaText, new PrismaPg(pool), (engine) =>
      engine.diff({
        from: { tag: 'empty' },
        to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_FILE_NAME, content: schemaText }] },
        script: true,
        exitCode: null,
        filters: NO_FILTERS,
      }),
    );
    return diff.stdout ?? '';
  } finally {
    await pool.end();
  }
}

/**
 * Creates the tables of `schemaText` (a `postgresql` schema) in the database at
 * `connectionString`: drops and recreates the `public` schema (ALL data in it is
 * lost), then runs the engine's DDL, in one transaction. Only `public` is handled.
 */
export async function pushSchemaPostgres(
  schemaText: string,
  connectionString: string,
  options: { unlessCurrent?: boolean } = {},
): Promise<boolean> {
  const pg = require('pg') as typeof import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const marker = `${PG_MARKER_PREFIX}${schemaFingerprint(schemaText)}`;
    // Several processes starting on one database (server replicas): one pushes, the
    // others wait here and then find the schema in place. The lock is held for the
    // session, from before the engine computes the DDL (its introspection must not
    // see another process's half-recreated schema) until the push has committed.
    await client.query('SELECT pg_advisory_lock($1)', [PG_PUSH_LOCK]);
    try {
      if (options.unlessCurrent && (await schemaMarker(client)) === marker) return false;
      const ddl = await postgresDdl(schemaText, connectionString);
      await client.query('BEGIN');
      try {
        await client.query('DROP SCHEMA IF EXISTS public CASCADE');
        await client.query('CREATE SCHEMA public');
        await client.query(ddl);
        await client.query(`COMMENT ON SCHEMA public IS '${marker}'`);
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PG_PUSH_LOCK]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

/** The advisory lock key that serialises schema pushes to one database. */
const PG_PUSH_LOCK = 7274013;

/** True when the database's `public` schema was last pushed with exactly `schemaText`. */
export async function postgresSchemaIsCurrent(schemaText: string, connectionString: string): Promise<boolean> {
  const pg = require('pg') as typeof import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await schemaMarker(client)) === `${PG_MARKER_PREFIX}${schemaFingerprint(schemaText)}`;
  } finally {
    await client.end();
  }
}

async function schemaMarker(client: import('pg').Client): Promise<string | null> {
  const { rows } = await client.query<{ description: string | null }>(
    `SELECT d.description FROM pg_namespace n
       LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
      WHERE n.nspname = 'public'`,
  );
  return rows[0]?.description ?? null;
}

/**
 * True when the database's `public` schema has tables that no push of ours
 * created (no trackhub marker): a database with data someone else owns.
 */
export async function postgresHasForeignTables(connectionString: string): Promise<boolean> {
  const pg = require('pg') as typeof import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ tables: number }>(`SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public'`);
    return (rows[0]?.tables ?? 0) > 0 && !(await schemaMarker(client))?.startsWith(PG_MARKER_PREFIX);
  } finally {
    await client.end();
  }
}

/** Pushes the schema unless the database already has exactly this schema. Returns whether it pushed. */
export async function ensureSchemaPostgres(schemaText: string, connectionString: string): Promise<boolean> {
  if (await postgresSchemaIsCurrent(schemaText, connectionString)) return false;
  return pushSchemaPostgres(schemaText, connectionString, { unlessCurrent: true });
}
