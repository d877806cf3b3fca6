/**
 * PostgreSQL for the test suites.
 *
 * The server comes from `scripts/start-postgres.sh` (CI runs it in `.ci/run`;
 * locally: `sudo scripts/start-postgres.sh`), which prints TRACKHUB_PG_URL.
 *
 * Usage in a test file:
 *
 *   const pg = await postgresAvailability();
 *   describe.skipIf(pg.url === null)('... on PostgreSQL', () => { ... });
 *
 * `postgresAvailability()` logs a visible warning when it returns a skip, and
 * THROWS when CI=true, so a CI run can never skip the PostgreSQL suites silently.
 */
import pg from 'pg';

export const DEFAULT_PG_URL = 'postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub';

export type PostgresAvailability = { url: string } | { url: null; reason: string };

let cached: Promise<PostgresAvailability> | undefined;

function isCi(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/** The admin URL: TRACKHUB_PG_URL or the default. */
export function postgresUrl(): string {
  return process.env.TRACKHUB_PG_URL || DEFAULT_PG_URL;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * `{ url }` when PostgreSQL answers at TRACKHUB_PG_URL (default
 * postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub), otherwise
 * `{ url: null, reason }` plus a console.warn; with CI=true it throws instead.
 */
export function postgresAvailability(): Promise<PostgresAvailability> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<PostgresAvailability> {
  const url = postgresUrl();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { url };
  } catch (error) {
    const reason =
      `PostgreSQL is not reachable at ${redact(url)} (${(error as Error).message || String(error)}). ` +
      'Start it with `sudo scripts/start-postgres.sh` and export the TRACKHUB_PG_URL it prints.';
    if (isCi()) {
      throw new Error(`CI=true and ${reason}`);
    }
    console.warn(`[postgres] SKIPPING PostgreSQL suites: ${reason}`);
    return { url: null, reason };
  } finally {
    await client.end().catch(() => {});
  }
}

/** `trackhub_test_<name>` with the name lower-cased and reduced to [a-z0-9_] (max 63 chars). */
export function testDatabaseName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!cleaned) throw new Error(`Invalid test database name "${name}"`);
  return `trackhub_test_${cleaned}`.slice(0, 63);
}

/**
 * Creates a dedicated, empty database for one test file (dropping it first if it
 * exists; the name is prefixed with `trackhub_test_` and sanitised, see
 * {@link testDatabaseName}) and returns its URL. Needs PostgreSQL to be available.
 */
export async function freshPostgresDatabase(name: string): Promise<string> {
  const availability = await postgresAvailability();
  if (availability.url === null) throw new Error(availability.reason);
  const adminUrl = availability.url;
  const dbName = testDatabaseName(name);
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await dropDatabase(admin, dbName);
    // Parallel test files creating databases at once: "source database "template1" is being accessed by other users".
    await retrying(() => admin.query(`CREATE DATABASE "${dbName}"`), (error) => /being accessed by other users/.test((error as Error).message), 10);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** Runs `run`, again after 100 ms, 200 ms, ... while it fails with an error `transient` accepts, at most `attempts` times. */
async function retrying<T>(run: () => Promise<T>, transient: (error: unknown) => boolean, attempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !transient(error)) throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/**
 * DROP DATABASE ... WITH (FORCE). FORCE cannot end a connection still starting up (its
 * role not yet known: 42501) and fails on one arriving meanwhile (55006): a pool
 * reconnecting during teardown. Those settle within milliseconds, so a few retries do.
 */
async function dropDatabase(admin: pg.Client, dbName: string): Promise<void> {
  const code = (error: unknown) => (error as { code?: string }).code;
  await retrying(() => admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`), (error) => code(error) === '42501' || code(error) === '55006', 5);
}

/** Drops a database created by {@link freshPostgresDatabase} (for afterAll). */
export async function dropPostgresDatabase(url: string): Promise<void> {
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!dbName.startsWith('trackhub_test_')) throw new Error(`Refusing to drop non-test database "${dbName}"`);
  const admin = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await dropDatabase(admin, dbName);
  } finally {
    await admin.end();
  }
}
