import 'reflect-metadata';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { INestApplication } from '@nestjs/common';
import { createTrackhubServer, type MediaOptions } from 'trackhub-gen/runtime/server';

import { AppModule, type AppModuleOptions } from '../../generated-example/server/app.module.js';
import { createExamplePrismaClient, type ExampleConnection } from '../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from './postgres.js';

export interface RunningServer {
  url: string;
  /** The real PrismaClient the server writes through (for asserting server state). */
  prisma: any;
  app: INestApplication;
  /** Root of the server's local-disk media storage (inside the server's temp dir). */
  mediaDir: string;
  stop(): Promise<void>;
}

/** AppModule options; the media storage directory defaults to `<server temp dir>/media`. */
export type ExampleServerOptions = Omit<AppModuleOptions, 'prisma'>;

/** Boots the generated example server over HTTP on a fresh database (SQLite file or PostgreSQL). */
export async function startExampleServer(
  db: { provider: 'sqlite' } | { provider: 'postgresql'; url: string },
  options: ExampleServerOptions = {},
): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-server-'));
  const connection: ExampleConnection =
    db.provider === 'sqlite' ? { provider: 'sqlite', file: path.join(dir, 'server.db') } : db;
  const { prisma, disconnect } = await createExamplePrismaClient({ ...connection, reset: true });
  const mediaDir = path.join(dir, 'media');
  const media: MediaOptions = { directory: mediaDir, tempDirectory: path.join(dir, 'uploads-in-flight'), ...options.media };
  const app = await createTrackhubServer(AppModule.forRoot({ ...options, prisma, media }), { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/graphql`,
    prisma,
    app,
    mediaDir,
    async stop() {
      await app.close();
      await disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fetch whose network can be switched off: the fault we inject on purpose (airplane mode). */
export function switchableFetch(): { fetch: typeof fetch; online: boolean; requests: { body: string }[] } {
  const state = {
    online: true,
    requests: [] as { body: string }[],
    fetch: (async (url: string, init: RequestInit) => {
      if (!state.online) throw new TypeError('fetch failed (airplane mode)');
      state.requests.push({ body: String(init.body) });
      return fetch(url, init);
    }) as typeof fetch,
  };
  return state;
}

export interface ExampleDatabase {
  name: 'SQLite' | 'PostgreSQL';
  provider: 'sqlite' | 'postgresql';
  start(options?: ExampleServerOptions): Promise<RunningServer>;
}

/**
 * The databases an end-to-end suite runs on: SQLite always, PostgreSQL when it
 * answers (skipped with a visible warning otherwise; an error in CI). Each process
 * gets its own PostgreSQL database, dropped when the server stops.
 */
export async function exampleDatabases(suite: string, defaults: ExampleServerOptions = {}): Promise<ExampleDatabase[]> {
  const pg = await postgresAvailability();
  if (pg.url === null) console.warn(`[${suite}] PostgreSQL variant SKIPPED: ${pg.reason}`);
  return [
    {
      name: 'SQLite',
      provider: 'sqlite',
      start: (options?: ExampleServerOptions) => startExampleServer({ provider: 'sqlite' }, { ...defaults, ...options }),
    },
    ...(pg.url === null
      ? []
      : [
          {
            name: 'PostgreSQL' as const,
            provider: 'postgresql' as const,
            async start(options?: ExampleServerOptions) {
              const url = await freshPostgresDatabase(`${suite}_${process.pid}`);
              const running = await startExampleServer({ provider: 'postgresql', url }, { ...defaults, ...options });
              return {
                ...running,
                async stop() {
                  await running.stop();
                  await dropPostgresDatabase(url);
                },
              };
            },
          },
        ]),
  ];
}

export { postGraphql } from './graphql.js';

/** The databases an end-to-end suite runs on: SQLite, and PostgreSQL when available (else a visible SKIPPED line). */
export async function databaseVariants(suite: string): Promise<Array<{ name: string; provider: 'sqlite' | 'postgresql' }>> {
  const pg = await postgresAvailability();
  if (pg.url === null) console.warn(`[${suite}] PostgreSQL variant SKIPPED: ${pg.reason}`);
  return [{ name: 'SQLite', provider: 'sqlite' }, ...(pg.url === null ? [] : [{ name: 'PostgreSQL', provider: 'postgresql' as const }])];
}

/**
 * Boots the example server on a fresh database of `provider` for one describe
 * block (a PostgreSQL database of its own, dropped afterwards). Read `.server` in tests.
 */
export function useExampleServer(provider: 'sqlite' | 'postgresql', name: string, hooks: { beforeAll(fn: () => Promise<void>): void; afterAll(fn: () => Promise<void>): void }): { readonly server: RunningServer } {
  const state: { server?: RunningServer; pgUrl?: string } = {};
  hooks.beforeAll(async () => {
    if (provider === 'postgresql') state.pgUrl = await freshPostgresDatabase(`${name}_${process.pid}`);
    state.server = await startExampleServer(state.pgUrl ? { provider: 'postgresql', url: state.pgUrl } : { provider: 'sqlite' });
  });
  hooks.afterAll(async () => {
    await state.server?.stop();
    if (state.pgUrl) await dropPostgresDatabase(state.pgUrl);
  });
  return {
    get server(): RunningServer {
      if (!state.server) throw new Error('the example server is not started yet (use it inside a test)');
      return state.server;
    },
  };
}
