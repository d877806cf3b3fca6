import 'reflect-metadata';

import { pathToFileURL } from 'node:url';

import { startTrackhubServer, type PrismaLike } from './generated/runtime.js';

import { AppModule } from './app.module.js';

/** Starts the API on $PORT (default 3000) with the given PrismaClient. */
export async function main(prisma: PrismaLike): Promise<void> {
  const app = await startTrackhubServer(AppModule.forRoot({ prisma }), {
    port: Number(process.env.PORT ?? 3000),
  });
  console.log(`GraphQL API on ${await app.getUrl()}/graphql`);
}

/**
 * Edit me: construct your PrismaClient here, e.g.
 *   import { PrismaClient } from '../prisma/client/client.js';
 *   return new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: process.env.DATABASE_URL }) });
 * By default it loads the module named by $TRACKHUB_PRISMA_MODULE, which must
 * export `prisma` (a PrismaClient instance).
 */
async function createPrisma(): Promise<PrismaLike> {
  const specifier = process.env.TRACKHUB_PRISMA_MODULE;
  if (!specifier)
    throw new Error('Set TRACKHUB_PRISMA_MODULE or edit createPrisma() in server/main.ts');
  const loaded = (await import(specifier)) as { prisma?: PrismaLike };
  if (!loaded.prisma) throw new Error(`${specifier} does not export "prisma"`);
  return loaded.prisma;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createPrisma()
    .then(main)
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
