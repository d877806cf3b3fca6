/**
 * The web analytics brownfield schema (fixtures/brownfield/analytics): a schema folder,
 * Int tenants (`accountId Int` to an `Account` with an autoincrement id), `@db.Uuid`
 * ids, a relation to an unsynced user that has the tenant field; after `fix-schema`
 * only, devices of one account sync and another account sees none of it, on SQLite and
 * PostgreSQL. (Its own file: NestJS keeps one GraphQL type registry per process.)
 */
import 'reflect-metadata';

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readSchema } from '../../src/schema/read.js';
import { runCli } from '../support/cli.js';
import { postGraphql } from '../support/graphql.js';
import { bootGeneratedServer, type GeneratedServer } from '../support/generated-project.js';
import { SYNC_PULL, SYNC_PUSH } from '../support/operations.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

const work = path.resolve('.cache/test-brownfield-folder-e2e');
const out = path.join(work, 'out');
const schemaDir = path.join(work, 'prisma/schema');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-brownfield-folder-'));
const pg = await postgresAvailability();
let schemaText = '';

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  cpSync('fixtures/brownfield/analytics', work, { recursive: true });
  expect((await runCli(['fix-schema', '--schema', schemaDir])).code).toBe(0);
  expect((await runCli(['generate', '--schema', schemaDir, '--out', out])).code).toBe(0);
  schemaText = (await readSchema(schemaDir)).text;
}, 120_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function suite(provider: 'sqlite' | 'postgresql', connection: () => Promise<string>, cleanup: (c: string) => Promise<void> = async () => {}) {
  let server: GeneratedServer;
  let conn: string;
  const users = { one: '0190f5a0-0000-7000-8000-00000000e001', two: '0190f5a0-0000-7000-8000-00000000e002' };

  beforeAll(async () => {
    conn = await connection();
    server = await bootGeneratedServer(out, schemaText, conn, provider);
    await server.prisma.account.create({ data: { id: 1, name: 'One' } });
    await server.prisma.account.create({ data: { id: 2, name: 'Two' } });
    await server.prisma.accountUser.create({ data: { id: users.one, accountId: 1, email: 'a@one' } });
    await server.prisma.accountUser.create({ data: { id: users.two, accountId: 2, email: 'b@two' } });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (conn) await cleanup(conn);
  });

  it('devices of account 1 sync websites, goals and reports; account 2 sees none; the Int tenant is stamped from the token', async () => {
    const { createClient } = await import(path.join(out, 'client/generated/index.ts'));
    const a = createClient({ tenantId: '1', url: server.url, token: 'dev:1:a', dbDir: path.join(tmp, `${provider}-a`) });
    const b = createClient({ tenantId: '1', url: server.url, token: 'dev:1:b', dbDir: path.join(tmp, `${provider}-b`) });
    const site = await a.websites.create({ name: 'Shop', domain: 'shop.example' });
    const goal = await a.goals.create({ websiteId: site.id, name: 'Checkout', target: 3, path: '/checkout' });
    const report = await a.reports.create({ userId: users.one, websiteId: site.id, type: 'funnel', name: 'Funnel', description: '', parameters: '{}' });
    await a.syncAll();
    await b.syncAll();
    expect(await b.goals.get(goal.id)).toMatchObject({ name: 'Checkout', websiteId: site.id, target: 3 });
    expect(await b.reports.get(report.id)).toMatchObject({ userId: users.one, websiteId: site.id });
    const row = await server.prisma.website.findFirst({ where: { clientId: site.id } });
    expect(row.accountId).toBe(1);
    const other = await postGraphql(server.url, SYNC_PULL, { entity: 'Website' }, 'dev:2:x');
    expect(other.data.syncPull.items).toEqual([]);
    const notANumber = await postGraphql(server.url, SYNC_PULL, { entity: 'Website' }, 'dev:acme:x');
    expect(notANumber.data.syncPull.items).toEqual([]);
    await a.close();
    await b.close();
  }, 60_000);

  it("another account's user is not a reference target; a non-UUID id is INVALID_VALUE", async () => {
    const site = await server.prisma.website.findFirst({ where: { accountId: 1 } });
    const res = await postGraphql(
      server.url,
      SYNC_PUSH,
      {
        entity: 'Report',
        items: [
          { clientId: '0190f5a0-0000-7000-8000-00000000f001', userId: users.two, websiteId: site.id, type: 't', name: 'n', description: '', parameters: '' },
          { clientId: '0190f5a0-0000-7000-8000-00000000f002', userId: 'u-1', websiteId: site.id, type: 't', name: 'n', description: '', parameters: '' },
        ],
      },
      'dev:1:a',
    );
    expect(res.data.syncPush.map((r: { errorCode: string; errorMessage: string }) => [r.errorCode, r.errorMessage])).toEqual([
      ['REFERENCE_NOT_FOUND', `userId: no AccountUser with id "${users.two}" in your tenant`],
      ['INVALID_VALUE', 'userId: "u-1" is not a UUID (@db.Uuid)'],
    ]);
  }, 60_000);
}

describe('brownfield analytics schema folder on SQLite', () => {
  suite('sqlite', async () => path.join(tmp, 'analytics.db'));
});

describe.skipIf(pg.url === null)('brownfield analytics schema folder on PostgreSQL', () => {
  suite('postgresql', () => freshPostgresDatabase('brownfield_analytics_i14'), dropPostgresDatabase);
});
