import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

// The generated client is TypeScript: it must also load outside vitest, under tsx.
const root = fileURLToPath(new URL('../../', import.meta.url));
const availability = await postgresAvailability();
if (availability.url === null) console.warn(`[test/prisma/tsx.test.ts] PostgreSQL part skipped: ${availability.reason}`);

describe('generated clients under tsx (outside vitest)', () => {
  let pgUrl: string | undefined;
  afterAll(async () => {
    if (pgUrl) await dropPostgresDatabase(pgUrl);
  });

  it('scripts/prisma-smoke.ts runs with node --import tsx', async () => {
    const providers = ['sqlite'];
    if (availability.url !== null) {
      pgUrl = await freshPostgresDatabase('prisma_tsx');
      providers.push('postgresql');
    }
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/prisma-smoke.ts', ...providers], {
      cwd: root,
      env: { ...process.env, TRACKHUB_PG_URL: pgUrl ?? '' },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.provider)).toEqual(providers);
    for (const line of lines) expect(line).toMatchObject({ updatedAt: '2024-02-29T23:59:58.123Z', staleCount: 0 });
  });
});
