/**
 * npm run example:server -- [--port <p>] [--db <file>]
 *
 * Starts the generated example server (generated-example/server) on a fresh
 * embedded SQLite database and prints its GraphQL URL.
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
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: --port must be a port number, got "${values.port}"`);
  process.exit(2);
}
const file = values.db
  ? path.resolve(values.db)
  : path.join(mkdtempSync(path.join(tmpdir(), 'trackhub-example-')), 'trackhub.db');
const { prisma, disconnect } = await createExamplePrismaClient({ provider: 'sqlite', file }, { reset: !values.db });
const mediaDir = process.env.TRACKHUB_MEDIA_DIR ?? path.join(path.dirname(file), 'media');
const app = await startTrackhubServer(AppModule.forRoot({ prisma, media: { directory: mediaDir } }), { port, host: values.host });
const address = app.getHttpServer().address();
const actualPort = typeof address === 'object' && address ? address.port : port;
console.log(`trackhub example server (SQLite ${file})`);
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
