import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExamplePrismaClient, createPrismaClientFor, type PrismaClientHandle } from '../../src/prisma/client-factory.js';
import { ensurePrismaClient, generatePrismaClient, HASH_FILE } from '../../src/prisma/generate-client.js';
import { toProviderSchema } from '../../src/prisma/providers.js';
import { pushSchemaSqlite } from '../../src/prisma/schema-engine.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-prisma-sqlite-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('generatePrismaClient', () => {
  const schemaText = [
    'generator client {',
    '  provider = "prisma-client-js"',
    '  output   = "../elsewhere"',
    '}',
    'datasource db {',
    '  provider = "sqlite"',
    '}',
    'model Note {',
    '  id   Int    @id @default(autoincrement())',
    '  text String',
    '}',
    '',
  ].join('\n');

  it('generates an ESM TypeScript client into outputDir, then skips while the schema is unchanged', async () => {
    const outputDir = path.join(tmp, 'gen', 'note');
    await generatePrismaClient({ schemaText, outputDir });
    const client = readFileSync(path.join(outputDir, 'client.ts'), 'utf8');
    expect(client).toContain('import * as $Class from "./internal/class.js"');
    expect(client).not.toContain(tmp); // no absolute path in the output
    const hashFile = path.join(outputDir, HASH_FILE);
    const mtime = statSync(hashFile).mtimeMs;

    const again = await ensurePrismaClient({ schemaText, outputDir });
    expect(again.generated).toBe(false);
    expect(statSync(hashFile).mtimeMs).toBe(mtime);

    const changed = await ensurePrismaClient({ schemaText: schemaText.replace('text String', 'body String'), outputDir });
    expect(changed.generated).toBe(true);
    expect(readFileSync(path.join(outputDir, 'models', 'Note.ts'), 'utf8')).toContain('body');
  });

  it('refuses to clobber a directory that is not a generated client', async () => {
    const outputDir = path.join(tmp, 'gen', 'not-a-client');
    await generatePrismaClient({ schemaText, outputDir: path.join(outputDir, 'sub') });
    rmSync(path.join(outputDir, 'sub', 'client.ts'));
    rmSync(path.join(outputDir, 'sub', HASH_FILE));
    await expect(generatePrismaClient({ schemaText, outputDir: path.join(outputDir, 'sub') })).rejects.toThrow(/Refusing/);
  });
});

describe('pushSchemaSqlite', () => {
  it('rejects :memory: (the engine and the client would each get their own empty database)', async () => {
    await expect(pushSchemaSqlite('datasource db {\n  provider = "sqlite"\n}\n', ':memory:')).rejects.toThrow(/FILE path/);
  });
});

describe('fixture client on SQLite', () => {
  let h: PrismaClientHandle;
  const file = path.join(tmp, 'fixture.db');

  beforeAll(async () => {
    h = await createExamplePrismaClient({ provider: 'sqlite', file, reset: true });
  });
  afterAll(async () => {
    await h?.disconnect();
  });

  it('created the tables', () => {
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    db.close();
    expect(tables).toEqual(['AuditLog', 'Checklist', 'ChecklistItem', 'Group', 'Hero', 'Project', 'ProjectMember', 'Space', 'Task', 'TaskNote', 'companies', 'sqlite_sequence', 'trackhub_scope_move', 'trackhub_sync_clock']);
  });

  it('creates and reads a Space; DateTime keeps its milliseconds', async () => {
    const updatedAt = new Date('2024-02-29T23:59:58.123Z');
    const created = await h.prisma.space.create({
      data: { tenantId: 't1', clientId: 'c1', name: 'Garage', ownerId: 'u1', updatedAt, deletedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 7)) },
    });
    expect(created.version).toBe(1);
    expect(created.kind).toBe('TEAM');
    const read = await h.prisma.space.findUniqueOrThrow({ where: { id: created.id } });
    expect(read.updatedAt).toBeInstanceOf(Date);
    expect(read.updatedAt.toISOString()).toBe('2024-02-29T23:59:58.123Z');
    expect(read.deletedAt.toISOString()).toBe('2025-01-02T03:04:05.007Z');
    expect(read.name).toBe('Garage');
    // relation + enum through the real client
    await h.prisma.group.create({ data: { tenantId: 't1', name: 'G', spaceId: created.id } });
    expect(await h.prisma.space.findUnique({ where: { id: created.id }, include: { groups: true } })).toMatchObject({
      groups: [{ name: 'G' }],
    });
  });

  it('updateMany with a stale version updates nothing (optimistic concurrency)', async () => {
    const s = await h.prisma.space.create({ data: { tenantId: 't1', name: 'A', ownerId: 'u1' } });
    const ok = await h.prisma.space.updateMany({
      where: { id: s.id, version: 1 },
      data: { name: 'B', version: { increment: 1 } },
    });
    expect(ok.count).toBe(1);
    const stale = await h.prisma.space.updateMany({
      where: { id: s.id, version: 1 },
      data: { name: 'C', version: { increment: 1 } },
    });
    expect(stale.count).toBe(0);
    expect(await h.prisma.space.findUnique({ where: { id: s.id } })).toMatchObject({ name: 'B', version: 2 });
  });

  it('a second client on the same file keeps the data (no push when the schema is unchanged)', async () => {
    const other = await createExamplePrismaClient({ provider: 'sqlite', file });
    try {
      expect(other.pushed).toBe(false);
      expect(await other.prisma.space.count()).toBeGreaterThan(0);
    } finally {
      await other.disconnect();
    }
  });
});

describe('createPrismaClientFor (any schema)', () => {
  it('works for another schema, incl. a model named after an SQL keyword', async () => {
    const schemaText = [
      'generator client {',
      '  provider = "prisma-client"',
      '}',
      'datasource db {',
      '  provider = "postgresql"', // rewritten to sqlite
      '}',
      'model Order {',
      '  id    String   @id',
      '  at    DateTime @db.Timestamptz(3)', // native type dropped for sqlite
      '  total Float',
      '}',
      '',
    ].join('\n');
    const file = path.join(tmp, 'other.db');
    const h = await createPrismaClientFor(schemaText, 'sqlite', file);
    try {
      expect(h.clientDir).toMatch(/[\\/]\.cache[\\/]prisma[\\/][0-9a-f]{16}[\\/]sqlite$/);
      await h.prisma.order.create({ data: { id: 'o1', at: new Date('2020-01-01T00:00:00.999Z'), total: 1.5 } });
      expect((await h.prisma.order.findUnique({ where: { id: 'o1' } })).at.toISOString()).toBe('2020-01-01T00:00:00.999Z');
    } finally {
      await h.disconnect();
    }
    // pushing again onto a database that has tables (the engine's own `reset` fails there)
    await pushSchemaSqlite(toProviderSchema(schemaText, 'sqlite'), file);
    const again = await createPrismaClientFor(schemaText, 'sqlite', file);
    try {
      expect(again.pushed).toBe(false);
      expect(await again.prisma.order.count()).toBe(0);
    } finally {
      await again.disconnect();
    }
  });
});
