/**
 * Real, connected Prisma clients for the fixture schema (example server, tests)
 * and for any schema text (tests with other schemas).
 *
 * Each call: generates the provider-specific client if needed (cached under
 * `.cache/prisma/`), creates the tables if the database does not already hold
 * exactly this schema (see `ensureSchema*` in schema-engine.ts: a CHANGED schema
 * drops and recreates everything), imports the generated client and connects it
 * through `@prisma/adapter-better-sqlite3` or `@prisma/adapter-pg`.
 *
 * The generated client is TypeScript (`client.ts` with `.js` import specifiers).
 * It is imported at runtime, which works under vitest and under tsx
 * (`npx tsx`, `node --import tsx`). Under plain `node` the import falls back
 * to tsx's `tsImport` API.
 *
 * Do not point two processes at the same database file/URL with different schemas.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensurePrismaClient } from './generate-client.js';
import { toProviderSchema, type PrismaProvider } from './providers.js';
import { ensureSchemaPostgres, ensureSchemaSqlite, pushSchemaPostgres, pushSchemaSqlite } from './schema-engine.js';

/** Repository root (this file is src/prisma/client-factory.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PRISMA_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'prisma');
export const FIXTURE_SCHEMA_PATH = path.join(REPO_ROOT, 'fixtures', 'trackhub', 'schema.prisma');

export type ExampleConnection = { provider: 'sqlite'; file: string } | { provider: 'postgresql'; url: string };

export interface PrismaClientHandle {
  /** A connected PrismaClient of the generated client. */
  prisma: any;
  /** `$disconnect()`s the client. */
  disconnect(): Promise<void>;
  /** The generated client module (PrismaClient, Prisma namespace, enums). */
  clientModule: any;
  /** Directory of the generated client. */
  clientDir: string;
  /** Whether the schema was pushed (tables created) by this call. */
  pushed: boolean;
}

export interface CreateClientOptions {
  /** Always drop everything and push the schema, even when the database already has it. */
  reset?: boolean;
  /** Passed to the PrismaClient constructor (besides the adapter), e.g. `{ log: ['query'] }`. */
  clientOptions?: Record<string, unknown>;
}

/** The directory of the fixture's client for `provider`: `.cache/prisma/<provider>`. */
export function exampleClientDir(provider: PrismaProvider): string {
  return path.join(PRISMA_CACHE_DIR, provider);
}

/** The fixture schema, rewritten for `provider`. */
export function exampleSchemaText(provider: PrismaProvider): string {
  return toProviderSchema(readFileSync(FIXTURE_SCHEMA_PATH, 'utf8'), provider);
}

/** Generates (if needed) the fixture's client for `provider` into `.cache/prisma/<provider>`. */
export async function ensureExampleClient(provider: PrismaProvider): Promise<{ dir: string; generated: boolean }> {
  const res = await ensurePrismaClient({
    schemaText: exampleSchemaText(provider),
    schemaPath: FIXTURE_SCHEMA_PATH,
    outputDir: exampleClientDir(provider),
  });
  return { dir: res.outputDir, generated: res.generated };
}

/**
 * A connected client of the fixture schema (fixtures/trackhub/schema.prisma) on SQLite or PostgreSQL.
 * Options (`reset`, `clientOptions`) may be given in the first argument or in the second.
 */
export async function createExamplePrismaClient(
  opts: ExampleConnection & CreateClientOptions,
  extra: CreateClientOptions = {},
): Promise<PrismaClientHandle> {
  const schemaText = exampleSchemaText(opts.provider);
  const connection = opts.provider === 'sqlite' ? opts.file : opts.url;
  const options = { ...opts, ...extra };
  return connectClient(schemaText, opts.provider, connection, exampleClientDir(opts.provider), FIXTURE_SCHEMA_PATH, options);
}

/**
 * A connected client for ANY schema text (its datasource provider is rewritten to
 * `provider`, DateTime fields get `@db.Timestamptz(3)` on PostgreSQL).
 * The client is generated into `.cache/prisma/<hash of schemaText>/<provider>`.
 * `connection` is the SQLite file path or the PostgreSQL URL.
 */
export async function createPrismaClientFor(
  schemaText: string,
  provider: PrismaProvider,
  connection: string,
  opts: CreateClientOptions = {},
): Promise<PrismaClientHandle> {
  const hash = createHash('sha256').update(schemaText).digest('hex').slice(0, 16);
  const providerSchema = toProviderSchema(schemaText, provider);
  return connectClient(providerSchema, provider, connection, path.join(PRISMA_CACHE_DIR, hash, provider), undefined, opts);
}

async function connectClient(
  providerSchema: string,
  provider: PrismaProvider,
  connection: string,
  outputDir: string,
  schemaPath: string | undefined,
  opts: CreateClientOptions,
): Promise<PrismaClientHandle> {
  const client = await ensurePrismaClient({ schemaText: providerSchema, schemaPath, outputDir });

  let pushed: boolean;
  if (provider === 'sqlite') {
    if (opts.reset) {
      await pushSchemaSqlite(providerSchema, connection);
      pushed = true;
    } else {
      pushed = await ensureSchemaSqlite(providerSchema, connection);
    }
  } else if (opts.reset) {
    await pushSchemaPostgres(providerSchema, connection);
    pushed = true;
  } else {
    pushed = await ensureSchemaPostgres(providerSchema, connection);
  }

  const clientModule = await importGeneratedClient(client.entry);
  const adapter = await createAdapter(provider, connection);
  const prisma = new clientModule.PrismaClient({ ...opts.clientOptions, adapter });
  await prisma.$connect();
  return {
    prisma,
    clientModule,
    clientDir: client.outputDir,
    pushed,
    disconnect: () => prisma.$disconnect(),
  };
}

async function createAdapter(provider: PrismaProvider, connection: string): Promise<unknown> {
  if (provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    return new PrismaBetterSqlite3({ url: path.resolve(connection.replace(/^file:/, '')) });
  }
  const { PrismaPg } = await import('@prisma/adapter-pg');
  return new PrismaPg({ connectionString: connection });
}

/** Imports a generated `client.ts`: natively under vitest/tsx, via tsx's API under plain node. */
export async function importGeneratedClient(entry: string): Promise<any> {
  const url = pathToFileURL(entry).href;
  try {
    return await import(url);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
}
