/**
 * Smoke test of the fixture's Prisma client outside vitest (run with tsx):
 *   npx tsx scripts/prisma-smoke.ts [sqlite|postgresql ...]
 * SQLite uses a temporary file; PostgreSQL uses TRACKHUB_PG_URL (default
 * postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub) and RESETS that database's
 * public schema. Prints one JSON line per provider; exits non-zero on failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createExamplePrismaClient } from '../src/prisma/client-factory.js';

const providers = process.argv.slice(2).length ? process.argv.slice(2) : ['sqlite'];
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-prisma-smoke-'));
try {
  for (const provider of providers) {
    const started = performance.now();
    const handle =
      provider === 'sqlite'
        ? await createExamplePrismaClient({ provider: 'sqlite', file: path.join(tmp, 'smoke.db'), reset: true })
        : provider === 'postgresql'
          ? await createExamplePrismaClient({
              provider: 'postgresql',
              url: process.env.TRACKHUB_PG_URL || 'postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub',
              reset: true,
            })
          : (() => {
              throw new Error(`unknown provider ${provider}`);
            })();
    const readyMs = Math.round(performance.now() - started);
    try {
      const updatedAt = new Date('2024-02-29T23:59:58.123Z');
      const s = await handle.prisma.space.create({ data: { tenantId: 't', name: 'smoke', ownerId: 'u', updatedAt } });
      const read = await handle.prisma.space.findUniqueOrThrow({ where: { id: s.id } });
      const stale = await handle.prisma.space.updateMany({ where: { id: s.id, version: 0 }, data: { name: 'x' } });
      const result = {
        provider,
        readyMs,
        updatedAt: read.updatedAt.toISOString(),
        staleCount: stale.count,
      };
      if (result.updatedAt !== updatedAt.toISOString() || result.staleCount !== 0) {
        throw new Error(`unexpected result ${JSON.stringify(result)}`);
      }
      console.log(JSON.stringify(result));
    } finally {
      await handle.disconnect();
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
