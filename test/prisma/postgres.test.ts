import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExamplePrismaClient, type PrismaClientHandle } from '../../src/prisma/client-factory.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

// Throws under CI=true when PostgreSQL is unreachable; otherwise warns and skips visibly.
const availability = await postgresAvailability();
if (availability.url === null) console.warn(`[test/prisma/postgres.test.ts] skipped: ${availability.reason}`);

describe.skipIf(availability.url === null)('fixture client on PostgreSQL', () => {
  let url: string;
  let h: PrismaClientHandle;

  beforeAll(async () => {
    url = await freshPostgresDatabase('prisma_client');
    h = await createExamplePrismaClient({ provider: 'postgresql', url });
  });
  afterAll(async () => {
    await h?.disconnect();
    if (url) await dropPostgresDatabase(url);
  });

  it('pushed the schema with timestamptz(3) DateTime columns', async () => {
    expect(h.pushed).toBe(true);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string; column_name: string; type: string }>(
        `SELECT c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod) AS type
           FROM information_schema.columns c
           JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
          WHERE c.table_schema = 'public' AND c.data_type LIKE 'timestamp%'
          ORDER BY 1, 2`,
      );
      expect(rows.length).toBeGreaterThan(10);
      for (const row of rows) expect(`${row.table_name}.${row.column_name}: ${row.type}`).toMatch(/: timestamp\(3\) with time zone$/);
      expect(rows.map((r) => `${r.table_name}.${r.column_name}`)).toContain('Space.updatedAt');
      const tables = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
      expect(tables.rows.map((r) => r.tablename)).toEqual(['AuditLog', 'Checklist', 'ChecklistItem', 'Group', 'Hero', 'Project', 'ProjectMember', 'Space', 'Task', 'TaskNote', 'companies', 'trackhub_scope_move', 'trackhub_sync_clock']);
    } finally {
      await client.end();
    }
  });

  it('creates and reads a Space; DateTime keeps its milliseconds', async () => {
    const updatedAt = new Date('2024-02-29T23:59:58.123Z');
    const created = await h.prisma.space.create({
      data: { tenantId: 't1', clientId: 'c1', name: 'Garage', ownerId: 'u1', kind: 'PERSONAL', updatedAt },
    });
    const read = await h.prisma.space.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.updatedAt.toISOString()).toBe('2024-02-29T23:59:58.123Z');
    expect(read.kind).toBe('PERSONAL');
    expect(read.deletedAt).toBeNull();
    const checklist = await h.prisma.checklist.create({
      data: { tenantId: 't1', title: 'T', spaceId: created.id, metadata: { a: [1, 'x'] }, dueAt: new Date('2030-06-01T12:00:00.001Z') },
    });
    const readChecklist = await h.prisma.checklist.findUniqueOrThrow({ where: { id: checklist.id } });
    expect(readChecklist.metadata).toEqual({ a: [1, 'x'] });
    expect(readChecklist.dueAt.toISOString()).toBe('2030-06-01T12:00:00.001Z');
  });

  it('updateMany with a stale version updates nothing (optimistic concurrency)', async () => {
    const s = await h.prisma.space.create({ data: { tenantId: 't1', name: 'A', ownerId: 'u1' } });
    const ok = await h.prisma.space.updateMany({ where: { id: s.id, version: 1 }, data: { name: 'B', version: { increment: 1 } } });
    expect(ok.count).toBe(1);
    const stale = await h.prisma.space.updateMany({ where: { id: s.id, version: 1 }, data: { name: 'C', version: { increment: 1 } } });
    expect(stale.count).toBe(0);
    expect(await h.prisma.space.findUnique({ where: { id: s.id } })).toMatchObject({ name: 'B', version: 2 });
  });

  it('a second client on the same database keeps the data (no push when the schema is unchanged)', async () => {
    const other = await createExamplePrismaClient({ provider: 'postgresql', url });
    try {
      expect(other.pushed).toBe(false);
      expect(await other.prisma.space.count()).toBeGreaterThan(0);
    } finally {
      await other.disconnect();
    }
  });
});
