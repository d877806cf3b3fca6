/**
 * The generated example server over HTTP on one database that survives a
 * restart: `restart()` closes the Nest app and its Prisma client, then boots a
 * new app (new PrismaClient, new port) on the SAME database, as a process
 * restart would. `url` always names the running instance.
 */
import 'reflect-metadata';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { INestApplication } from '@nestjs/common';
import { createTrackhubServer } from 'trackhub-gen/runtime/server';

import { AppModule } from '../../generated-example/server/app.module.js';
import { createExamplePrismaClient, type ExampleConnection } from '../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase } from './postgres.js';

export interface RestartableServer {
  readonly url: string;
  readonly prisma: any;
  readonly restarts: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRestartableServer(
  provider: 'sqlite' | 'postgresql',
  suite: string,
): Promise<RestartableServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-restartable-'));
  const connection: ExampleConnection =
    provider === 'sqlite'
      ? { provider: 'sqlite', file: path.join(dir, 'server.db') }
      : { provider: 'postgresql', url: await freshPostgresDatabase(`${suite}_${process.pid}`) };
  let current: { app: INestApplication; prisma: any; disconnect(): Promise<void>; url: string } | null = null;
  let restarts = 0;

  const boot = async (reset: boolean): Promise<void> => {
    const { prisma, disconnect } = await createExamplePrismaClient({ ...connection, reset });
    const app = await createTrackhubServer(AppModule.forRoot({ prisma }), { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    current = { app, prisma, disconnect, url: `http://127.0.0.1:${port}/graphql` };
  };
  const shutdown = async (): Promise<void> => {
    const running = current;
    current = null;
    if (!running) return;
    await running.app.close();
    await running.disconnect();
  };
  await boot(true);

  return {
    get url() {
      if (!current) throw new Error('server is down');
      return current.url;
    },
    get prisma() {
      if (!current) throw new Error('server is down');
      return current.prisma;
    },
    get restarts() {
      return restarts;
    },
    async restart() {
      await shutdown();
      await boot(false);
      restarts += 1;
    },
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
      if (connection.provider === 'postgresql') await dropPostgresDatabase(connection.url);
    },
  };
}
