/**
 * A real Prisma client on a fresh database for a schema given as text (a temp SQLite
 * file, or a throw-away PostgreSQL database), with every SQL statement it sends recorded:
 * for tests that count the statements a code path writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createPrismaClientFor } from '../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase } from './postgres.js';

export interface LoggedPrisma {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  prisma: any;
  /** The SQL of every statement sent so far (clear it with `statements.length = 0`). */
  statements: string[];
  close(): Promise<void>;
}

/** `name` labels the temp folder or the PostgreSQL database. */
export async function openLoggedPrisma(schema: string, provider: 'sqlite' | 'postgresql', name: string): Promise<LoggedPrisma> {
  let connection: string;
  let cleanup: () => Promise<void>;
  if (provider === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), `trackhub-${name}-`));
    connection = path.join(dir, `${name}.db`);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    connection = await freshPostgresDatabase(name.replace(/-/g, '_'));
    cleanup = () => dropPostgresDatabase(connection);
  }
  const handle = await createPrismaClientFor(schema, provider, connection, {
    reset: true,
    clientOptions: { log: [{ emit: 'event', level: 'query' }] },
  });
  const statements: string[] = [];
  handle.prisma.$on('query', (e: { query: string }) => statements.push(e.query));
  return {
    prisma: handle.prisma,
    statements,
    close: async () => {
      await handle.disconnect();
      await cleanup();
    },
  };
}
