/**
 * An older production schema (fixtures/brownfield/issue-tracker: Int autoincrement ids
 * everywhere, an Int tenant, `updatedAt DateTime?` with legacy rows where it is null,
 * and a Task with two relations to Member), annotated and run through `fix-schema`
 * only, syncs end to end over HTTP between real WatermelonDB devices and the generated
 * server, on SQLite and PostgreSQL:
 *
 * - server ids travel as opaque strings; keys to Int ids are translated both ways;
 * - the pull cursor and the online list page across id 9 -> 10 in numeric order;
 * - rows with a null updatedAt are pulled exactly once, and a stale edit of one wins
 *   under `timestamp` (null is older than any edit);
 * - Task.assignee and Task.reporter both sync and both navigations resolve on a device.
 * (Its own file: NestJS keeps one GraphQL type registry per process.)
 */
import 'reflect-metadata';

import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { bootGeneratedServer, type GeneratedServer } from '../support/generated-project.js';
import { SYNC_PULL, SYNC_PUSH } from '../support/operations.js';
import { postGraphql } from '../support/graphql.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

const work = path.resolve('.cache/test-brownfield-int-ids-e2e');
const out = path.join(work, 'out');
const schemaFile = path.join(work, 'schema.prisma');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-int-ids-'));
const pg = await postgresAvailability();

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  cpSync('fixtures/brownfield/issue-tracker', work, { recursive: true });
  expect((await runCli(['fix-schema', '--schema', schemaFile])).code).toBe(0);
  expect((await runCli(['generate', '--schema', schemaFile, '--out', out])).code).toBe(0);
}, 120_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const ORG1 = 'dev:1:u1';
const ORG2 = 'dev:2:u9';

type PushResult = { clientId: string | null; success: boolean; errorCode: string | null; errorMessage: string | null; id: string | null; version: number | null };
type Pulled = Record<string, unknown> & { id: string; updatedAt: string | null };

const push = async (url: string, entity: string, items: unknown[], token = ORG1) =>
  (await postGraphql(url, SYNC_PUSH, { entity, items }, token)).data.syncPush as PushResult[];

/** Every page of a pull, following the cursor. */
async function pullAll(url: string, entity: string, limit: number, token = ORG1): Promise<Pulled[][]> {
  const query = `query($entity: String!, $limit: Int, $cursor: String) { syncPull(entity: $entity, limit: $limit, cursor: $cursor) { items lastSyncAt hasMore cursor } }`;
  const pages: Pulled[][] = [];
  let cursor: string | null = null;
  for (;;) {
    const res = await postGraphql(url, query, { entity, limit, cursor }, token);
    expect(res.errors).toBeUndefined();
    const page = res.data.syncPull as { items: Pulled[]; hasMore: boolean; cursor: string };
    pages.push(page.items);
    if (!page.hasMore) return pages;
    cursor = page.cursor;
  }
}

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

function suite(provider: 'sqlite' | 'postgresql', connection: () => Promise<string>, cleanup: (c: string) => Promise<void> = async () => {}) {
  let server: GeneratedServer;
  let conn: string;
  /** The legacy stamp shared by Projects 1..12 (written before the sync server existed). */
  const legacyStamp = new Date('2024-03-01T12:00:00.000Z');

  beforeAll(async () => {
    conn = await connection();
    server = await bootGeneratedServer(out, readFileSync(schemaFile, 'utf8'), conn, provider);
    const { prisma } = server;
    // The production app's data: organizations without @sync, members and projects from before the
    // updatedAt column (members: null; projects: one stamp for all), ids 1..12.
    await prisma.organization.create({ data: { name: 'One' } });
    await prisma.organization.create({ data: { name: 'Two' } });
    for (let i = 1; i <= 12; i++) {
      // Member 12 was edited once the column existed: it sorts after the null ones.
      await prisma.member.create({ data: { orgId: 1, name: `Member ${i}`, email: `m${i}@one.test`, updatedAt: i === 12 ? legacyStamp : null } });
      await prisma.project.create({ data: { orgId: 1, key: `P${i}`, title: `Project ${i}`, updatedAt: legacyStamp } });
    }
    await prisma.member.create({ data: { orgId: 2, name: 'Other', email: 'other@two.test', updatedAt: null } });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (conn) await cleanup(conn);
  });

  it('graphql/schema.graphql declares the types the server serves: ids ID, keys to Int ids String, updatedAt nullable', async () => {
    const { data } = await postGraphql(server.url, getIntrospectionQuery());
    const served = buildClientSchema(data);
    const emitted = buildSchema(readFileSync(path.join(out, 'graphql/schema.graphql'), 'utf8'));
    // (The served schema also holds the example's types: this test process loads the example's support code.)
    const names = ['Member', 'Project', 'Task'].flatMap((n) => [n, `${n}CreateInput`, `${n}UpdateInput`, `${n}Page`]);
    const print = (schema: typeof served) => names.map((n) => printType(lexicographicSortSchema(schema).getType(n)!)).join('\n');
    expect(print(emitted)).toBe(print(served));
    expect(print(served)).toMatch(/type Task \{[^}]*\n {2}id: ID!\n[^}]*\n {2}reporterId: String!\n[^}]*\n {2}updatedAt: DateTime\n/);
  });

  it('legacy rows (null updatedAt, one shared stamp) are pulled exactly once, pages crossing id 9 -> 10 in numeric order', async () => {
    expect((await server.prisma.member.findMany({ where: { updatedAt: null } })).length).toBe(12);
    const members = await pullAll(server.url, 'Member', 5);
    expect(members.map(ids)).toEqual([range(1, 5), range(6, 10), range(11, 12)]);
    expect(members.flat().map((m) => m.updatedAt)).toEqual([...range(1, 11).map(() => null), legacyStamp.toISOString()]);
    const projects = await pullAll(server.url, 'Project', 4);
    expect(projects.map(ids)).toEqual([range(1, 4), range(5, 8), range(9, 12)]);
    expect(projects.flat().every((p) => p.updatedAt === legacyStamp.toISOString())).toBe(true);
    // A since-only client (the seed's signature): one page holding every null row moves past them;
    // one that stops inside them is sent back to the beginning (only the cursor gets past more than
    // `limit` rows sharing one place), never past a row it did not get.
    const sinceQuery = `query($since: DateTime, $limit: Int) { syncPull(entity: "Member", since: $since, limit: $limit) { items lastSyncAt hasMore } }`;
    const whole = (await postGraphql(server.url, sinceQuery, { since: null, limit: 100 }, ORG1)).data.syncPull;
    expect([ids(whole.items), whole.hasMore]).toEqual([range(1, 12), false]);
    expect((await postGraphql(server.url, sinceQuery, { since: whole.lastSyncAt, limit: 100 }, ORG1)).data.syncPull.items).toEqual([]);
    const partial = await postGraphql(server.url, sinceQuery, { since: null, limit: 5 }, ORG1);
    expect(partial.errors).toBeUndefined();
    const again = (await postGraphql(server.url, sinceQuery, { since: partial.data.syncPull.lastSyncAt, limit: 5 }, ORG1)).data.syncPull;
    expect(ids(again.items)).toEqual(range(1, 5));
    // Another tenant sees only its own member.
    expect((await pullAll(server.url, 'Member', 5, ORG2)).flat().map((m) => m.name)).toEqual(['Other']);
    // A cursor of a String-id entity, or garbage, is refused clearly.
    const bad = await postGraphql(server.url, `query { syncPull(entity: "Member", cursor: "p1.WzEsImEiXQ") { hasMore } }`, {}, ORG1);
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');

    // The online list pages the same way.
    const list = `query($cursor: String) { members(limit: 5, cursor: $cursor) { items { id name updatedAt } nextCursor } }`;
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await postGraphql(server.url, list, { cursor }, ORG1);
      expect(res.errors).toBeUndefined();
      seen.push(ids(res.data.members.items));
      cursor = res.data.members.nextCursor;
    } while (cursor);
    expect(seen).toEqual([range(1, 5), range(6, 10), range(11, 12)]);
    const one = await postGraphql(server.url, `query { a: member(id: "10") { id name updatedAt } b: member(id: "abc") { id } c: member(id: "13") { id } }`, {}, ORG1);
    expect(one.errors).toBeUndefined();
    expect(one.data).toEqual({ a: { id: '10', name: 'Member 10', updatedAt: null }, b: null, c: null });
  }, 60_000);

  it('devices create tasks pointing at two members; both keys reach the server as Int ids and both navigations resolve on another device', async () => {
    const { createClient } = await import(path.join(out, 'client/generated/index.ts'));
    const a = createClient({ tenantId: '1', url: server.url, token: ORG1, dbDir: path.join(tmp, `${provider}-a`) });
    const b = createClient({ tenantId: '1', url: server.url, token: 'dev:1:u2', dbDir: path.join(tmp, `${provider}-b`) });
    await a.syncAll();
    const localMembers = (await a.members.list()) as Array<{ id: string; name: string; serverId: string }>;
    expect(localMembers.map((m) => m.name).sort()).toEqual(range(1, 12).map((i) => `Member ${i}`).sort());
    const byName = (name: string) => localMembers.find((m) => m.name === name)!;
    const project10 = ((await a.projects.list()) as Array<{ id: string; key: string }>).find((p) => p.key === 'P10')!;

    // Offline: one task between two legacy members, one reported by a member created offline.
    const newcomer = await a.members.create({ name: 'Newcomer', email: 'new@one.test' });
    const t1 = await a.tasks.create({ title: 'Fix login', projectId: project10.id, assigneeId: byName('Member 10').id, reporterId: byName('Member 9').id });
    const t2 = await a.tasks.create({ title: 'Onboard', projectId: project10.id, assigneeId: null, reporterId: newcomer.id });
    const report = await a.syncAll();
    expect(report.errors ?? []).toEqual([]);

    const { prisma } = server;
    const newRow = await prisma.member.findFirst({ where: { clientId: newcomer.id } });
    expect(newRow.id).toBe(14); // after the 13 legacy members: numbered by the database
    expect(newRow.updatedAt).toBeInstanceOf(Date);
    const row1 = await prisma.task.findFirst({ where: { clientId: t1.id } });
    expect([row1.orgId, row1.projectId, row1.assigneeId, row1.reporterId]).toEqual([1, 10, 10, 9]);
    const row2 = await prisma.task.findFirst({ where: { clientId: t2.id } });
    expect([row2.assigneeId, row2.reporterId]).toEqual([null, 14]);
    // The device now knows the server ids, as text.
    expect((await a.members.get(newcomer.id)).serverId).toBe('14');
    expect((await a.tasks.get(t1.id)).serverId).toBe(String(row1.id));

    await b.syncAll();
    const onB = (await b.tasks.list()) as Array<{ id: string; title: string }>;
    expect(onB.map((t) => t.title).sort()).toEqual(['Fix login', 'Onboard']);
    const fix = await b.tasks.collection.find(onB.find((t) => t.title === 'Fix login')!.id);
    expect((await fix.assignee.fetch()).name).toBe('Member 10');
    expect((await fix.reporter.fetch()).name).toBe('Member 9');
    expect((await fix.project.fetch()).key).toBe('P10');
    const onboard = await b.tasks.collection.find(onB.find((t) => t.title === 'Onboard')!.id);
    expect(await onboard.assignee.fetch()).toBeNull();
    expect((await onboard.reporter.fetch()).name).toBe('Newcomer');

    // B reassigns the task to the newcomer; A sees it, by its own local ids.
    const localNewcomerOnB = ((await b.members.list()) as Array<{ id: string; name: string }>).find((m) => m.name === 'Newcomer')!;
    await b.tasks.update(fix.id, { assigneeId: localNewcomerOnB.id });
    await b.syncAll();
    expect((await prisma.task.findFirst({ where: { clientId: t1.id } })).assigneeId).toBe(14);
    await a.syncAll();
    expect((await a.tasks.get(t1.id)).assigneeId).toBe(newcomer.id);
    await a.close();
    await b.close();
  }, 90_000);

  it('an edit of a legacy row stamps it and is pulled once more; a stale edit of a null-updatedAt row wins under timestamp', async () => {
    const { prisma } = server;
    const before = await pullAll(server.url, 'Member', 100);
    const cursorQuery = `query($cursor: String) { syncPull(entity: "Member", cursor: $cursor) { items hasMore cursor } }`;
    // Where a device that has pulled everything stands.
    let cursor: string | null = null;
    for (;;) {
      const page: { hasMore: boolean; cursor: string } = (await postGraphql(server.url, cursorQuery, { cursor }, ORG1)).data.syncPull;
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(before.flat().length).toBe(13);

    const [renamed] = await push(server.url, 'Member', [{ id: '3', version: 1, name: 'Member three' }]);
    expect(renamed).toMatchObject({ success: true, id: '3', version: 2 });
    expect((await prisma.member.findUnique({ where: { id: 3 } })).updatedAt).toBeInstanceOf(Date);
    const next = (await postGraphql(server.url, cursorQuery, { cursor }, ORG1)).data.syncPull;
    expect(next.items.map((m: Pulled) => [m.id, m.name])).toEqual([['3', 'Member three']]);

    // Another writer bumped member 11's version without stamping updatedAt; a device still at version 1 edits it.
    await prisma.member.update({ where: { id: 11 }, data: { version: 2, name: 'Renamed elsewhere', updatedAt: null } });
    const [stale] = await push(server.url, 'Member', [{ id: '11', version: 1, name: 'Mine', updatedAt: '2020-01-01T00:00:00.000Z' }]);
    expect(stale).toMatchObject({ success: true, id: '11', version: 3 });
    expect((await prisma.member.findUnique({ where: { id: 11 } })).name).toBe('Mine');

    // Ids and keys that cannot be Int ids, or belong to another tenant, are per-item errors.
    const results = await push(server.url, 'Task', [
      { id: 'abc', version: 1, title: 'x' },
      { id: '99999', version: 1, title: 'x' },
      { clientId: '0190f5a0-0000-7000-8000-0000000000d1', title: 'x', projectId: '10', reporterId: '15' },
    ]);
    expect(results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      ['VALIDATION_FAILED', 'id must be the server id as returned (the decimal text of a 32-bit integer)'],
      ['NOT_FOUND', 'no Task with id "99999"'],
      ['VALIDATION_FAILED', 'reporterId: no Member with id or clientId "15" in your tenant'],
    ]);
    // The online path: create returns the database's id as text; keys to Int ids are text both ways.
    const created = await postGraphql(server.url, `mutation { createTask(input: { title: "Online", projectId: "10", reporterId: "9", assigneeId: "14" }) { id reporterId assigneeId version } }`, {}, ORG1);
    expect(created.errors).toBeUndefined();
    const id = created.data.createTask.id as string;
    expect(created.data.createTask).toMatchObject({ reporterId: '9', assigneeId: '14', version: 1 });
    expect(typeof id === 'string' && /^\d+$/.test(id)).toBe(true);
    const updated = await postGraphql(server.url, `mutation($id: ID!) { updateTask(id: $id, expectedVersion: 1, input: { reporterId: "14" }) { id reporterId version } }`, { id }, ORG1);
    expect(updated.data.updateTask).toEqual({ id, reporterId: '14', version: 2 });
    expect((await prisma.task.findUnique({ where: { id: Number(id) } })).reporterId).toBe(14);

    const [foreign] = await push(server.url, 'Task', [{ clientId: '0190f5a0-0000-7000-8000-0000000000d2', title: 'x', projectId: '10', reporterId: '9' }], ORG2);
    expect(foreign.errorCode).toBe('VALIDATION_FAILED');
  }, 60_000);
}

describe('brownfield issue tracker (Int ids, nullable updatedAt) on SQLite', () => {
  suite('sqlite', async () => path.join(tmp, 'issue-tracker.db'));
});

describe.skipIf(pg.url === null)('brownfield issue tracker (Int ids, nullable updatedAt) on PostgreSQL', () => {
  suite('postgresql', () => freshPostgresDatabase('brownfield_int_ids_i14b'), dropPostgresDatabase);
});
