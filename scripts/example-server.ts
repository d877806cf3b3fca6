/**
 * npm run example:server -- [--port <p>] [--db <file>] [--database-url postgresql://...]
 *
 * Starts the generated example server (generated-example/server) on a fresh
 * embedded SQLite database and prints its GraphQL URL. With `--database-url`
 * (or $DATABASE_URL) it starts a replica on that PostgreSQL database instead:
 * several replicas can share it (one creates the fixture's tables, the others
 * wait for it and find them; a database holding another schema is replaced).
 */
import 'reflect-metadata';

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { startTrackhubServer } from 'trackhub-gen/runtime/server';

import { AppModule } from '../generated-example/server/app.module.js';
import { createExamplePrismaClient } from '../src/prisma/client-factory.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '4000' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: --port must be a port number, got "${values.port}"`);
  process.exit(2);
}
const databaseUrl = values['database-url'];
if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error(`error: --database-url must be a postgresql:// URL, got "${databaseUrl}" (for SQLite use --db <file>)`);
  process.exit(2);
}
const file = values.db
  ? path.resolve(values.db)
  : path.join(mkdtempSync(path.join(tmpdir(), 'trackhub-example-')), 'trackhub.db');
const { prisma, disconnect, pushed } = databaseUrl
  ? await createExamplePrismaClient({ provider: 'postgresql', url: databaseUrl })
  : await createExamplePrismaClient({ provider: 'sqlite', file }, { reset: !values.db });
const mediaDir = process.env.TRACKHUB_MEDIA_DIR ?? path.join(path.dirname(file), 'media');
// A development server: it takes dev:<tenant>:<user> tokens on purpose.
process.env.TRACKHUB_ALLOW_DEV_TOKENS ??= '1';
const app = await startTrackhubServer(AppModule.forRoot({ prisma, media: { directory: mediaDir } }), { port, host: values.host });
const address = app.getHttpServer().address();
const actualPort = typeof address === 'object' && address ? address.port : port;
console.log(
  databaseUrl
    ? `trackhub example server (PostgreSQL ${redact(databaseUrl)}, ${pushed ? 'tables created' : 'tables already in place'})`
    : `trackhub example server (SQLite ${file})`,
);
console.log(`GraphQL: http://${values.host}:${actualPort}/graphql`);
console.log(`Uploads: http://${values.host}:${actualPort}/uploads (files in ${mediaDir})`);
console.log(`Metrics: http://${values.host}:${actualPort}/metrics`);
console.log(`try:  curl -s http://${values.host}:${actualPort}/graphql -H 'content-type: application/json' -H 'authorization: Bearer dev:t1:u1' -d '{"query":"{ syncPull(entity: \\"Space\\") { items lastSyncAt hasMore } }"}'`);

const shutdown = async (): Promise<void> => {
  await app.close();
  await disconnect();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
