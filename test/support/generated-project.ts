/**
 * Helpers for tests that generate a project of their own (inside the repository,
 * so generated code resolves `trackhub-gen/runtime/*`) and boot its server.
 */
import 'reflect-metadata';

import path from 'node:path';

import { createTrackhubServer } from 'trackhub-gen/runtime/server';

import { createPrismaClientFor } from '../../src/prisma/client-factory.js';

export { TAG_MODEL } from './schemas.js';

export interface GeneratedServer {
  url: string;
  prisma: any;
  stop(): Promise<void>;
}

/**
 * Boots `<outDir>/server/app.module.ts` over HTTP on a fresh database with `schemaText`'s
 * tables: a SQLite file (default), or the PostgreSQL database at `connection`.
 */
export async function bootGeneratedServer(
  outDir: string,
  schemaText: string,
  connection: string,
  provider: 'sqlite' | 'postgresql' = 'sqlite',
): Promise<GeneratedServer> {
  const { prisma, disconnect } = await createPrismaClientFor(schemaText, provider, connection, { reset: true });
  const { AppModule } = await import(path.join(outDir, 'server/app.module.ts'));
  const app = await createTrackhubServer(AppModule.forRoot({ prisma }), { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/graphql`,
    prisma,
    async stop() {
      await app.close();
      await disconnect();
    },
  };
}
