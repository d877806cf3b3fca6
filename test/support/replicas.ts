/**
 * Several replicas of the generated example server on ONE PostgreSQL database,
 * each with its own PrismaClient, its own HTTP port and its own (injected)
 * wall clock, as a load-balanced deployment runs them. Only the first replica
 * creates the tables; the others find them in place.
 */
import 'reflect-metadata';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { INestApplication } from '@nestjs/common';
import { createTrackhubServer, type MediaOptions, type TrackhubModuleOptions } from 'trackhub-gen/runtime/server';

import { verifyToken } from '../../generated-example/server/auth/token-verifier.js';
import { TrackhubModule } from '../../generated-example/server/generated/trackhub.module.js';
import { createExamplePrismaClient } from '../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase } from './postgres.js';

export interface Replica {
  index: number;
  url: string;
  /** Base URL of the HTTP server (no path). */
  origin: string;
  prisma: any;
  app: INestApplication;
  /** Milliseconds this replica's clock is ahead (negative: behind) of the real one; may be changed at any time. */
  skewMs: number;
}

export interface ReplicaSet {
  databaseUrl: string;
  replicas: Replica[];
  /** A random replica (for "each request goes to any replica"). */
  any(random?: () => number): Replica;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  /** Initial skew of each replica's clock, in ms (default 0 for all). */
  skewsMs?: number[];
  /** Media options of every replica (a shared MediaStorage makes media work through any replica). */
  media?: (index: number) => MediaOptions;
  /** Extra module options of every replica (e.g. fault hooks). */
  extra?: (index: number) => Partial<TrackhubModuleOptions>;
}

export async function startReplicas(suite: string, count: number, options: ReplicaOptions = {}): Promise<ReplicaSet> {
  const databaseUrl = await freshPostgresDatabase(`${suite}_${process.pid}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-replicas-'));
  const replicas: Replica[] = [];
  const handles: Array<{ disconnect(): Promise<void> }> = [];
  for (let index = 0; index < count; index++) {
    const handle = await createExamplePrismaClient({ provider: 'postgresql', url: databaseUrl, reset: index === 0 });
    handles.push(handle);
    const replica = { index, skewMs: options.skewsMs?.[index] ?? 0 } as Replica;
    const media = options.media?.(index) ?? {
      directory: path.join(dir, `media-${index}`),
      tempDirectory: path.join(dir, `tmp-${index}`),
    };
    const app = await createTrackhubServer(
      TrackhubModule.forRoot({
        prisma: handle.prisma,
        verifyToken,
        logger: { error: () => undefined },
        clock: () => Date.now() + replica.skewMs,
        media,
        ...options.extra?.(index),
      }),
      { logger: ['error'] },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    Object.assign(replica, { url: `http://127.0.0.1:${port}/graphql`, origin: `http://127.0.0.1:${port}`, prisma: handle.prisma, app });
    replicas.push(replica);
  }
  return {
    databaseUrl,
    replicas,
    any: (random = Math.random) => replicas[Math.floor(random() * replicas.length)]!,
    async stop() {
      for (const r of replicas) await r.app.close();
      for (const h of handles) await h.disconnect();
      rmSync(dir, { recursive: true, force: true });
      await dropPostgresDatabase(databaseUrl);
    },
  };
}
