/**
 * Boots the generated example server (generated-example/server) over HTTP on real
 * Prisma, like test/support/example-server.ts, plus seeding helpers.
 */
import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createTrackhubServer } from 'trackhub-gen/runtime/server';
import { uuidv7 } from 'uuidv7';

import { AppModule } from '../generated-example/server/app.module.js';
import { createExamplePrismaClient } from '../src/prisma/client-factory.js';

export type Db = { provider: 'sqlite' } | { provider: 'postgresql'; url: string };

export interface BenchServer {
  url: string;
  prisma: any;
  /** Server-side time of every request so far, in ms (arrival to response finished). */
  serverMs: number[];
  stop(): Promise<void>;
}

/** `reset: false` keeps the tables another process created (a second replica on one database). */
export async function connectPrisma(db: Db, reset = true): Promise<{ prisma: any; disconnect(): Promise<void>; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-bench-server-'));
  const conn = db.provider === 'sqlite' ? ({ provider: 'sqlite', file: path.join(dir, 'server.db') } as const) : db;
  const { prisma, disconnect } = await createExamplePrismaClient({ ...conn, reset });
  return {
    prisma,
    dir,
    disconnect: async () => {
      await disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startServer(db: Db, reset = true): Promise<BenchServer> {
  const { prisma, disconnect } = await connectPrisma(db, reset);
  process.env.TRACKHUB_ALLOW_DEV_TOKENS ??= '1'; // bench devices use dev:<tenant>:<user> tokens
  const app = await createTrackhubServer(AppModule.forRoot({ prisma }), { logger: ['error'] });
  // Server-side latency of every request (arrival to response finished), for the load bench.
  const serverMs: number[] = [];
  app.use((_req: unknown, res: { on(event: 'finish', fn: () => void): void }, next: () => void) => {
    const t0 = performance.now();
    res.on('finish', () => serverMs.push(performance.now() - t0));
    next();
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/graphql`,
    prisma,
    serverMs,
    async stop() {
      await app.close();
      await disconnect();
    },
  };
}

/** A Space row as the server stores it (for createMany). */
export function spaceRow(tenantId: string, i: number, id = randomUUID()): Record<string, unknown> {
  return {
    id,
    clientId: uuidv7(),
    tenantId,
    name: `Space ${i}`,
    description: i % 3 === 0 ? `description of space ${i}` : null,
    kind: (['PERSONAL', 'TEAM', 'ARCHIVE'] as const)[i % 3],
    color: i % 2 ? '#ff8800' : null,
    position: i,
    ownerId: 'u1',
  };
}

/** Seeds n records for `tenantId`: 80% Spaces, 20% Groups (each pointing at a Space). */
export async function seed(prisma: any, tenantId: string, n: number): Promise<{ spaces: number; groups: number }> {
  const spaces = Math.ceil(n * 0.8);
  const groups = n - spaces;
  const ids: string[] = [];
  const CHUNK = 5000;
  for (let i = 0; i < spaces; i += CHUNK) {
    const rows = [];
    for (let j = i; j < Math.min(spaces, i + CHUNK); j++) {
      const r = spaceRow(tenantId, j);
      ids.push(r.id as string);
      rows.push(r);
    }
    await prisma.space.createMany({ data: rows });
  }
  for (let i = 0; i < groups; i += CHUNK) {
    const rows = [];
    for (let j = i; j < Math.min(groups, i + CHUNK); j++) {
      rows.push({ clientId: uuidv7(), tenantId, name: `Group ${j}`, archived: j % 7 === 0, spaceId: ids[j % ids.length] });
    }
    await prisma.group.createMany({ data: rows });
  }
  return { spaces, groups };
}

export interface ProjectTenant {
  tenantId: string;
  projects: number;
  tasksPerProject: number;
}

/**
 * Seeds tenants of Projects with Tasks (partial-sync bench). `raw`: one
 * `INSERT ... SELECT` over a recursive counter per project through `$executeRawUnsafe`
 * (SQLite only; DateTime written as Prisma writes it on SQLite: ISO text `...sss+00:00`);
 * `createMany`: Prisma createMany in chunks of 5,000. The tasks' updatedAt values are spread 1 ms apart in the past (distinct per project, before any live write).
 * Returns each tenant's project ids, in creation order.
 */
export async function seedProjects(prisma: any, tenants: ProjectTenant[], method: 'raw' | 'createMany' = 'raw'): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const base = Date.now() - 24 * 3600_000; // a day ago: 86.4M ms of room
  for (const t of tenants) {
    const ids: string[] = [];
    const projects = Array.from({ length: t.projects }, (_, i) => ({ id: randomUUID(), clientId: uuidv7(), tenantId: t.tenantId, name: `Project ${i}`, updatedAt: new Date(base + i) }));
    await prisma.project.createMany({ data: projects });
    for (const [p, project] of projects.entries()) {
      ids.push(project.id);
      // Interleaved across projects: a project's tasks are not one contiguous run of the tenant stream.
      const stamp = (i: number) => base + t.projects + i * t.projects + p;
      if (method === 'raw') {
        await prisma.$executeRawUnsafe(
          `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
           INSERT INTO "Task" ("id", "clientId", "version", "updatedAt", "tenantId", "title", "done", "projectId")
           SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                               substr('89ab', 1 + (abs(random()) % 4), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
                  NULL, 1, strftime('%Y-%m-%dT%H:%M:%S', ms / 1000, 'unixepoch') || printf('.%03d+00:00', ms % 1000), ?, 'Task ' || n, n % 5 = 0, ?
           FROM (SELECT n, ? + n * ? AS ms FROM seq)`,
          t.tasksPerProject - 1,
          t.tenantId,
          project.id,
          stamp(0),
          t.projects,
        );
      } else {
        const CHUNK = 5000;
        for (let i = 0; i < t.tasksPerProject; i += CHUNK) {
          const rows = [];
          for (let j = i; j < Math.min(t.tasksPerProject, i + CHUNK); j++) {
            rows.push({ id: randomUUID(), tenantId: t.tenantId, title: `Task ${j}`, done: j % 5 === 0, projectId: project.id, updatedAt: new Date(stamp(j)) });
          }
          await prisma.task.createMany({ data: rows });
        }
      }
    }
    out[t.tenantId] = ids;
  }
  return out;
}
