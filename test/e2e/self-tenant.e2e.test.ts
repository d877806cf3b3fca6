/**
 * A model that is its own tenant (`@sync(tenant: "id")`, a Team scoped to itself),
 * with an entity scoped by it: after `fix-schema`, each tenant reads and writes only
 * its own Team row, on every path (pull, push, online CRUD).
 * (Its own file: NestJS keeps one GraphQL type registry per process.)
 */
import 'reflect-metadata';

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { postGraphql } from '../support/graphql.js';
import { bootGeneratedServer, type GeneratedServer } from '../support/generated-project.js';
import { SYNC_PULL, SYNC_PUSH } from '../support/operations.js';

const work = path.resolve('.cache/test-self-tenant');
const schema = path.join(work, 'schema.prisma');
const out = path.join(work, 'out');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-self-tenant-'));
let server: GeneratedServer;

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(
    schema,
    `datasource db {\n  provider = "sqlite"\n}\n\n/// @sync(tenant: "id")\nmodel Team {\n  id       String    @id\n  name     String\n  projects Project[]\n}\n\n/// @sync(tenant: "teamId")\nmodel Project {\n  id     String @id @default(uuid())\n  teamId String\n  team   Team   @relation(fields: [teamId], references: [id])\n  name   String\n}\n`,
  );
  expect((await runCli(['fix-schema', '--schema', schema])).code).toBe(0);
  expect((await runCli(['generate', '--schema', schema, '--out', out])).code).toBe(0);
  server = await bootGeneratedServer(out, readFileSync(schema, 'utf8'), path.join(tmp, 'self.db'));
  await server.prisma.team.create({ data: { id: 't1', name: 'One' } });
  await server.prisma.team.create({ data: { id: 't2', name: 'Two' } });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('a model that is its own tenant', () => {
  it('each tenant pulls only its own Team, cannot write another one, and its projects are scoped by it', async () => {
    const pull = async (token: string) => (await postGraphql(server.url, SYNC_PULL, { entity: 'Team' }, token)).data.syncPull.items.map((t: { id: string }) => t.id);
    expect(await pull('dev:t1:u')).toEqual(['t1']);
    expect(await pull('dev:t2:u')).toEqual(['t2']);

    const push = async (entity: string, items: unknown[]) => (await postGraphql(server.url, SYNC_PUSH, { entity, items }, 'dev:t1:u')).data.syncPush;
    const [foreign] = await push('Team', [{ id: 't2', version: 1, name: 'taken over' }]);
    expect(foreign.errorCode).toBe('NOT_FOUND');
    const [own] = await push('Team', [{ id: 't1', version: 1, name: 'One, renamed' }]);
    expect(own.success).toBe(true);
    expect((await server.prisma.team.findUnique({ where: { id: 't2' } })).name).toBe('Two');

    // The online CRUD list and get are scoped the same way.
    const list = await postGraphql(server.url, '{ teams { items { id name } } }', {}, 'dev:t1:u');
    expect(list.data.teams.items).toEqual([{ id: 't1', name: 'One, renamed' }]);
    const other = await postGraphql(server.url, '{ team(id: "t2") { id } }', {}, 'dev:t1:u');
    expect(other.data.team).toBeNull();

    const { createClient } = await import(path.join(out, 'client/generated/index.ts'));
    const device = createClient({ tenantId: 't1', url: server.url, token: 'dev:t1:u', dbDir: path.join(tmp, 'device') });
    await device.syncAll();
    expect((await device.teams.list()).map((t: { name: string }) => t.name)).toEqual(['One, renamed']);
    await device.projects.create({ name: 'Roadmap' });
    await device.syncAll();
    expect(await server.prisma.project.findMany({ select: { teamId: true, name: true } })).toEqual([{ teamId: 't1', name: 'Roadmap' }]);
    await device.close();
  }, 60_000);
});
