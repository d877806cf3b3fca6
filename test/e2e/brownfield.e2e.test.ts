/**
 * A production-style schema (fixtures/brownfield/team-api: Prisma 6 datasource, cuid
 * ids, a Team tenant model and User without @sync, other generators' annotations,
 * @db types, a user @@unique), annotated and run through `fix-schema` only, syncs end
 * to end over HTTP between real WatermelonDB devices, on SQLite and PostgreSQL; its
 * constraint violations come back as per-item codes naming the field.
 * (Its own file: NestJS keeps one GraphQL type registry per process.)
 */
import 'reflect-metadata';

import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { bootGeneratedServer, type GeneratedServer } from '../support/generated-project.js';
import { SYNC_PULL, SYNC_PUSH } from '../support/operations.js';
import { postGraphql } from '../support/graphql.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

const work = path.resolve('.cache/test-brownfield-e2e');
const out = path.join(work, 'out');
const schemaFile = path.join(work, 'schema.prisma');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-brownfield-'));
const pg = await postgresAvailability();

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  cpSync('fixtures/brownfield/team-api', work, { recursive: true });
  expect((await runCli(['fix-schema', '--schema', schemaFile])).code).toBe(0);
  expect((await runCli(['generate', '--schema', schemaFile, '--out', out])).code).toBe(0);
}, 120_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const push = async (url: string, entity: string, items: unknown[], token = 'dev:team1:u1') =>
  (await postGraphql(url, SYNC_PUSH, { entity, items }, token)).data.syncPush as Array<{ success: boolean; errorCode: string | null; errorMessage: string | null; id: string | null }>;

function suite(provider: 'sqlite' | 'postgresql', connection: () => Promise<string>, cleanup: (c: string) => Promise<void> = async () => {}) {
  let server: GeneratedServer;
  let conn: string;

  beforeAll(async () => {
    conn = await connection();
    server = await bootGeneratedServer(out, readFileSync(schemaFile, 'utf8'), conn, provider);
    const { prisma } = server;
    // The models without @sync, as the production app writes them.
    await prisma.team.create({ data: { id: 'team1', name: 'One', slug: 'one' } });
    await prisma.team.create({ data: { id: 'team2', name: 'Two', slug: 'two' } });
    await prisma.user.create({ data: { id: 'u1', email: 'u1@example.com', passwordHash: 'x' } });
    await prisma.environment.create({ data: { id: 'env1', teamId: 'team1', name: 'staging' } });
    await prisma.environment.create({ data: { id: 'env2', teamId: 'team2', name: 'staging' } });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (conn) await cleanup(conn);
  });

  it('two devices of a team sync collections and requests; relations to unsynced models are plain values, timestamps server-stamped', async () => {
    const { createClient } = await import(path.join(out, 'client/generated/index.ts'));
    const a = createClient({ tenantId: 'team1', url: server.url, token: 'dev:team1:u1', dbDir: path.join(tmp, `${provider}-a`) });
    const b = createClient({ tenantId: 'team1', url: server.url, token: 'dev:team1:u2', dbDir: path.join(tmp, `${provider}-b`) });
    const col = await a.collections.create({ title: 'Auth', ownerId: 'u1', publicId: '0190f5a0-0000-7000-8000-000000000001' });
    const req = await a.requests.create({ name: 'Login', url: 'https://api.example.com/login', method: 'POST', collectionId: col.id, envId: 'env1' });
    await a.syncAll();
    await b.syncAll();
    expect((await b.collections.list()).map((c: { title: string; ownerId: string }) => [c.title, c.ownerId])).toEqual([['Auth', 'u1']]);
    const pulled = await b.requests.get(req.id);
    expect(pulled).toMatchObject({ name: 'Login', method: 'POST', collectionId: col.id, envId: 'env1' });

    const row = await server.prisma.request.findFirst({ where: { clientId: req.id } });
    expect(row).toMatchObject({ teamId: 'team1', envId: 'env1', secretToken: null });
    const colRow = await server.prisma.collection.findFirst({ where: { clientId: col.id } });
    expect(row.collectionId).toBe(colRow.id);
    expect(colRow.createdOn).toBeInstanceOf(Date);
    // updatedOn is the server's, whatever a device sends.
    const [sent] = await push(server.url, 'Collection', [{ id: colRow.id, version: colRow.version, title: 'Auth v2', updatedOn: '2001-01-01T00:00:00.000Z' }]);
    expect(sent.success).toBe(true);
    const after = await server.prisma.collection.findUnique({ where: { id: colRow.id } });
    expect(after.title).toBe('Auth v2');
    expect(after.updatedOn.getFullYear()).toBeGreaterThan(2001);
    await a.close();
    await b.close();
  }, 60_000);

  it('constraint violations are per-item codes naming the field, not INTERNAL', async () => {
    const base = { ownerId: 'u1' };
    const results = await push(server.url, 'Collection', [
      { clientId: '0190f5a0-0000-7000-8000-0000000000a1', ...base, title: 'x'.repeat(81) },
      { clientId: '0190f5a0-0000-7000-8000-0000000000a2', ...base, title: 'Uuid', publicId: 'not-a-uuid' },
      { clientId: '0190f5a0-0000-7000-8000-0000000000a3', ...base, title: 'Ghost owner', ownerId: 'nobody' },
      { clientId: '0190f5a0-0000-7000-8000-0000000000a4', ...base, title: 'Auth v2' },
      { clientId: '0190f5a0-0000-7000-8000-0000000000a5', ...base, title: 'Editor', editorId: 'u1' },
    ]);
    expect(results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      ['VALUE_TOO_LONG', 'title: 81 characters, at most 80 fit (@db.VarChar(80))'],
      ['INVALID_VALUE', 'publicId: "not-a-uuid" is not a UUID (@db.Uuid)'],
      ['REFERENCE_NOT_FOUND', 'ownerId: no User with id "nobody"'],
      ['UNIQUE_VIOLATION', 'teamId, title: another Collection already has these values'],
      ['FORBIDDEN_FIELD', 'server-only field(s) cannot be written: editorId'],
    ]);
    // Another team's environment reads as missing.
    const [foreign] = await push(server.url, 'Request', [
      { clientId: '0190f5a0-0000-7000-8000-0000000000b1', name: 'X', url: 'https://x', collectionId: 'whatever', envId: 'env2' },
    ]);
    expect(foreign.errorCode).toBe('VALIDATION_FAILED'); // collectionId is checked first
    const col = await server.prisma.collection.findFirst({ where: { title: 'Auth v2' } });
    const [envOfTeam2] = await push(server.url, 'Request', [
      { clientId: '0190f5a0-0000-7000-8000-0000000000b2', name: 'X', url: 'https://x', collectionId: col.id, envId: 'env2' },
    ]);
    expect([envOfTeam2.errorCode, envOfTeam2.errorMessage]).toEqual(['REFERENCE_NOT_FOUND', 'envId: no Environment with id "env2" in your tenant']);
  }, 60_000);

  it('a @@unique held by a soft-deleted record says so', async () => {
    const [created] = await push(server.url, 'Collection', [{ clientId: '0190f5a0-0000-7000-8000-0000000000c1', ownerId: 'u1', title: 'Old' }]);
    expect(created.success).toBe(true);
    const [deleted] = await push(server.url, 'Collection', [{ id: created.id, version: 1, deletedAt: new Date().toISOString() }]);
    expect(deleted.success).toBe(true);
    const [again] = await push(server.url, 'Collection', [{ clientId: '0190f5a0-0000-7000-8000-0000000000c2', ownerId: 'u1', title: 'Old' }]);
    expect([again.errorCode, again.errorMessage]).toEqual([
      'UNIQUE_VIOLATION',
      'teamId, title: another Collection already has these values (a deleted Collection keeps holding them: deleted records keep their values)',
    ]);
    // Pulls still carry the tombstone, scoped to the team.
    const pulled = (await postGraphql(server.url, SYNC_PULL, { entity: 'Collection' }, 'dev:team1:u1')).data.syncPull.items;
    expect(pulled.find((i: { id: string }) => i.id === created.id).deletedAt).not.toBeNull();
    expect((await postGraphql(server.url, SYNC_PULL, { entity: 'Collection' }, 'dev:team2:u9')).data.syncPull.items).toEqual([]);
  }, 60_000);
}

describe('brownfield team API schema on SQLite', () => {
  suite('sqlite', async () => path.join(tmp, 'team-api.db'));
});

describe.skipIf(pg.url === null)('brownfield team API schema on PostgreSQL', () => {
  suite('postgresql', () => freshPostgresDatabase('brownfield_team_api_i14'), dropPostgresDatabase);
});
