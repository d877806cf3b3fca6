/**
 * The child process of `trackhub-gen dev`: imports the transpiled generated
 * TrackhubModule and Prisma client, connects the client through the SQLite or
 * PostgreSQL driver adapter, and serves with the dev token verifier. Prints
 * `trackhub-dev-ready <url>` once listening.
 */
import 'reflect-metadata';

import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

import { devTokenVerifier, startTrackhubServer, type PrismaLike, type TrackhubModuleOptions } from '../runtime/server/index.js';

interface TrackhubModuleClass {
  forRoot(options: TrackhubModuleOptions): import('@nestjs/common').DynamicModule;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this script is started by \`trackhub-gen dev\`)`);
  return value;
};

async function run(): Promise<void> {
  const project = createRequire(path.join(process.cwd(), 'package.json'));
  const { TrackhubModule } = (await import(pathToFileURL(env('TRACKHUB_DEV_MODULE')).href)) as { TrackhubModule: TrackhubModuleClass };
  const { PrismaClient } = (await import(pathToFileURL(env('TRACKHUB_DEV_CLIENT')).href)) as { PrismaClient: new (options: object) => PrismaLike & { $connect(): Promise<void> } };
  const connection = env('TRACKHUB_DEV_CONNECTION');
  let adapter: unknown;
  if (env('TRACKHUB_DEV_PROVIDER') === 'postgresql') {
    const { PrismaPg } = (await import(pathToFileURL(project.resolve('@prisma/adapter-pg')).href)) as { PrismaPg: new (o: object) => unknown };
    adapter = new PrismaPg({ connectionString: connection });
  } else {
    const { PrismaBetterSqlite3 } = (await import(pathToFileURL(project.resolve('@prisma/adapter-better-sqlite3')).href)) as { PrismaBetterSqlite3: new (o: object) => unknown };
    adapter = new PrismaBetterSqlite3({ url: connection });
  }
  const prisma = new PrismaClient({ adapter });
  await prisma.$connect();
  const app = await startTrackhubServer(TrackhubModule.forRoot({ prisma, verifyToken: devTokenVerifier, allowDevTokens: true, maxBatchSize: 1000 }), {
    port: Number(env('TRACKHUB_DEV_PORT')),
    host: '127.0.0.1',
  });
  const url = `${(await app.getUrl()).replace('[::1]', 'localhost')}/graphql`;
  process.stdout.write(`trackhub-dev-ready ${url}\n`);
  const close = (): void => {
    void app.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

run().catch((error: unknown) => {
  console.error('trackhub-gen dev:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
