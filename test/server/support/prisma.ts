/**
 * Real Prisma for the server tests: the fixture schema's generated client
 * (src/prisma/client-factory.ts) over a fresh SQLite file or PostgreSQL database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createExamplePrismaClient, FIXTURE_SCHEMA_PATH, REPO_ROOT as ROOT } from '../../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../../support/postgres.js';

export const REPO_ROOT = ROOT;
export const FIXTURE_SCHEMA = FIXTURE_SCHEMA_PATH;

export interface TestDatabase {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  prisma: any;
  close(): Promise<void>;
}

/** A connected PrismaClient for the fixture schema over a new, empty SQLite database. */
export async function createFixtureDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trackhub-server-'));
  const handle = await createExamplePrismaClient({ provider: 'sqlite', file: path.join(dir, 'test.db'), reset: true });
  return {
    prisma: handle.prisma,
    async close() {
      await handle.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The same on a dedicated, fresh PostgreSQL database (needs PostgreSQL: see test/support/postgres.ts). */
export async function createFixturePostgresDatabase(name: string): Promise<TestDatabase> {
  const url = await freshPostgresDatabase(name);
  const handle = await createExamplePrismaClient({ provider: 'postgresql', url, reset: true });
  return {
    prisma: handle.prisma,
    async close() {
      await handle.disconnect();
      await dropPostgresDatabase(url);
    },
  };
}

/** A fixture database on one provider, for `describe.each`; `skip` when it cannot run here. */
export interface FixtureVariant {
  provider: 'sqlite' | 'postgresql';
  connect(): Promise<TestDatabase>;
  skip: boolean;
}

/**
 * SQLite, and PostgreSQL (database `name`) marked `skip` when none is reachable (the suite
 * then shows a skipped test, and postgresAvailability has printed why).
 */
export async function fixtureVariants(name: string): Promise<FixtureVariant[]> {
  const postgres = await postgresAvailability();
  return [
    { provider: 'sqlite', connect: () => createFixtureDatabase(), skip: false },
    { provider: 'postgresql', connect: () => createFixturePostgresDatabase(name), skip: postgres.url === null },
  ];
}
