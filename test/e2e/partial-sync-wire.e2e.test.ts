/**
 * Partial sync over HTTP, at the wire: the generated example server (SQLite, and
 * PostgreSQL when available) answering raw `syncPull` / `syncPush` / online CRUD.
 *
 * Fixture: Task is `@sync(scope: "project")`, TaskNote `@sync(scope: "task.project")`;
 * Project's read rule (generated-example/server/hooks/project.hooks.ts) makes a project
 * with ProjectMember rows private to its members.
 *
 * Proves: a scope's stream holds exactly its subtree (two hops included) and the seed's
 * signature still gets the whole tenant; a move sends removals to the old root's stream
 * and the moved subtree to the new one's; a revoked membership makes the root's streams
 * answer scopeRevoked, the Project stream answer reset without the project, and reads and
 * writes of its rows not found; foreign, guessed and malformed roots read exactly like a
 * revoked one; a scope on an unscoped entity and a cursor of another scope are refused.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleDatabases, postGraphql, type RunningServer } from '../support/example-server.js';
import { SYNC_PUSH } from '../support/operations.js';

const databases = await exampleDatabases('partial_sync_wire');

const PULL = `query Pull($entity: String!, $since: DateTime, $limit: Int, $cursor: String, $scope: ID) {
  syncPull(entity: $entity, since: $since, limit: $limit, cursor: $cursor, scope: $scope) {
    items lastSyncAt hasMore cursor removals { id clientId } scopeRevoked reset
  }
}`;

interface Page {
  items: Record<string, any>[];
  lastSyncAt: string;
  hasMore: boolean;
  cursor: string;
  removals: { id: string; clientId: string | null }[];
  scopeRevoked: boolean;
  reset: boolean;
}

describe.each(databases)('partial sync at the wire on $name', ({ start }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  let n = 0;
  const tenant = () => `pw${process.pid}x${++n}`;
  const token = (t: string, user = 'u') => `dev:${t}:${user}`;

  const pull = async (t: string, entity: string, vars: Record<string, unknown> = {}, user = 'u'): Promise<Page> => {
    const res = await postGraphql(server.url, PULL, { entity, ...vars }, token(t, user));
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.syncPull as Page;
  };
  /** Every page of a stream from `cursor` on: items, removals, flags, and the final cursor. */
  const drain = async (t: string, entity: string, cursor: string | null, scope?: string, user = 'u') => {
    const items: Record<string, any>[] = [];
    const removals: string[] = [];
    let first: Page | null = null;
    for (;;) {
      const page = await pull(t, entity, { cursor, limit: 2, ...(scope ? { scope } : {}) }, user);
      first ??= page;
      items.push(...page.items);
      removals.push(...page.removals.map((r) => r.id));
      cursor = page.cursor;
      if (!page.hasMore) return { items, removals, cursor, reset: first.reset, revoked: page.scopeRevoked };
    }
  };
  const push = async (t: string, entity: string, items: unknown[], user = 'u') => {
    const res = await postGraphql(server.url, SYNC_PUSH, { entity, items }, token(t, user));
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.syncPush as Array<{ id: string; success: boolean; errorCode: string | null; version: number }>;
  };
  const create = async (t: string, entity: string, data: Record<string, unknown>, user = 'u') => {
    const [result] = await push(t, entity, [{ clientId: randomUUID(), ...data }], user);
    expect(result.success, JSON.stringify(result)).toBe(true);
    return result.id;
  };

  /** Two projects, each with tasks and notes. */
  const seed = async (t: string) => {
    const p1 = await create(t, 'Project', { name: 'one' });
    const p2 = await create(t, 'Project', { name: 'two' });
    const t1 = await create(t, 'Task', { title: 'a', projectId: p1 });
    const t2 = await create(t, 'Task', { title: 'b', projectId: p1 });
    const t3 = await create(t, 'Task', { title: 'c', projectId: p2 });
    const n1 = await create(t, 'TaskNote', { body: 'a1', taskId: t1 });
    const n2 = await create(t, 'TaskNote', { body: 'a2', taskId: t1 });
    const n3 = await create(t, 'TaskNote', { body: 'c1', taskId: t3 });
    return { p1, p2, t1, t2, t3, n1, n2, n3 };
  };
  const ids = (items: Record<string, any>[]) => items.map((i) => i.id).sort();

  it("a scope's stream holds exactly its subtree, through two hops; without a scope the whole tenant comes", async () => {
    const t = tenant();
    const s = await seed(t);
    expect(ids((await drain(t, 'Task', null, s.p1)).items)).toEqual([s.t1, s.t2].sort());
    expect(ids((await drain(t, 'Task', null, s.p2)).items)).toEqual([s.t3]);
    expect(ids((await drain(t, 'TaskNote', null, s.p1)).items)).toEqual([s.n1, s.n2].sort());
    expect(ids((await drain(t, 'TaskNote', null, s.p2)).items)).toEqual([s.n3]);
    // The seed's signature: no scope, every row of the tenant.
    expect(ids((await drain(t, 'Task', null)).items)).toEqual([s.t1, s.t2, s.t3].sort());
    expect(ids((await drain(t, 'TaskNote', null)).items)).toEqual([s.n1, s.n2, s.n3].sort());
  });

  it('a moved task leaves the old scope as removals (its notes too) and arrives in the new one with its notes', async () => {
    const t = tenant();
    const s = await seed(t);
    const before = {
      task1: await drain(t, 'Task', null, s.p1),
      task2: await drain(t, 'Task', null, s.p2),
      note1: await drain(t, 'TaskNote', null, s.p1),
      note2: await drain(t, 'TaskNote', null, s.p2),
    };
    const [moved] = await push(t, 'Task', [{ id: s.t1, version: 1, projectId: s.p2 }]);
    expect(moved.success).toBe(true);

    const old = await drain(t, 'Task', before.task1.cursor, s.p1);
    expect(old.items).toEqual([]);
    expect(old.removals).toEqual([s.t1]);
    const oldNotes = await drain(t, 'TaskNote', before.note1.cursor, s.p1);
    expect(oldNotes.items).toEqual([]);
    expect(oldNotes.removals.sort()).toEqual([s.n1, s.n2].sort());

    const fresh = await drain(t, 'Task', before.task2.cursor, s.p2);
    expect(ids(fresh.items)).toEqual([s.t1]);
    expect(fresh.removals).toEqual([]);
    const freshNotes = await drain(t, 'TaskNote', before.note2.cursor, s.p2);
    expect(ids(freshNotes.items)).toEqual([s.n1, s.n2].sort());
    // The notes' own data did not change: re-stamped, same version.
    expect(freshNotes.items.every((i) => i.version === 1)).toBe(true);

    // Moved back: the old root's stream gets it again, and no removal for it.
    const again = await drain(t, 'Task', old.cursor, s.p1);
    await push(t, 'Task', [{ id: s.t1, version: 2, projectId: s.p1 }]);
    const back = await drain(t, 'Task', again.cursor, s.p1);
    expect(ids(back.items)).toEqual([s.t1]);
    expect(back.removals).toEqual([]);
  });

  it('a revoked membership: the scope answers scopeRevoked, the project stream resets without it, its rows read and write as not found', async () => {
    const t = tenant();
    const s = await seed(t);
    const projects = await drain(t, 'Project', null, undefined, 'bob');
    expect(ids(projects.items)).toEqual([s.p1, s.p2].sort());
    const tasks = await drain(t, 'Task', null, s.p2, 'bob');
    expect(ids(tasks.items)).toEqual([s.t3]);
    const allTasks = await drain(t, 'Task', null, undefined, 'bob');

    // p2 becomes private to alice.
    await server.prisma.projectMember.create({ data: { tenantId: t, projectId: s.p2, userId: 'alice' } });

    const revoked = await pull(t, 'Task', { cursor: tasks.cursor, scope: s.p2 }, 'bob');
    expect(revoked).toMatchObject({ items: [], removals: [], scopeRevoked: true, hasMore: false });
    const reset = await drain(t, 'Project', projects.cursor, undefined, 'bob');
    expect(reset.reset).toBe(true);
    expect(ids(reset.items)).toEqual([s.p1]);
    // The tenant-wide stream of a scoped entity resets too, without p2's task.
    const tenantWide = await drain(t, 'Task', allTasks.cursor, undefined, 'bob');
    expect(tenantWide.reset).toBe(true);
    expect(ids(tenantWide.items)).toEqual([s.t1, s.t2].sort());
    // After the reset, the stream continues normally.
    expect((await pull(t, 'Project', { cursor: reset.cursor }, 'bob')).reset).toBe(false);

    // Alice still sees everything.
    expect(ids((await drain(t, 'Task', null, s.p2, 'alice')).items)).toEqual([s.t3]);

    // Writes into the unreadable project, and reads of it, are not found.
    const [update] = await push(t, 'Task', [{ id: s.t3, version: 1, title: 'hijack' }], 'bob');
    expect(update.errorCode).toBe('NOT_FOUND');
    const [created] = await push(t, 'Task', [{ clientId: randomUUID(), title: 'sneak', projectId: s.p2 }], 'bob');
    expect(created.errorCode).toBe('VALIDATION_FAILED');
    const [moveIn] = await push(t, 'Task', [{ id: s.t1, version: 1, projectId: s.p2 }], 'bob');
    expect(moveIn.errorCode).toBe('VALIDATION_FAILED');
    const [note] = await push(t, 'TaskNote', [{ id: s.n3, version: 1, body: 'x' }], 'bob');
    expect(note.errorCode).toBe('NOT_FOUND');
    const get = await postGraphql(server.url, 'query($id: ID!) { task(id: $id) { id } }', { id: s.t3 }, token(t, 'bob'));
    expect(get.data.task).toBeNull();
    const del = await postGraphql(server.url, 'mutation($id: ID!) { deleteProject(id: $id, expectedVersion: 1) { id } }', { id: s.p2 }, token(t, 'bob'));
    expect(del.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const row = await server.prisma.task.findFirst({ where: { id: s.t3 } });
    expect(row).toMatchObject({ title: 'c', projectId: s.p2, version: 1 });
    expect(await server.prisma.task.count({ where: { tenantId: t, title: 'sneak' } })).toBe(0);
  });

  it("another tenant's project, a guessed id and a malformed id read exactly like a revoked scope", async () => {
    const mine = tenant();
    const other = tenant();
    const s = await seed(other);
    for (const scope of [s.p1, randomUUID(), 'not-an-id', '']) {
      const page = await pull(mine, 'Task', { scope });
      expect(page).toMatchObject({ items: [], removals: [], scopeRevoked: true, hasMore: false });
      const notes = await pull(mine, 'TaskNote', { scope });
      expect(notes.scopeRevoked).toBe(true);
    }
  });

  it('a scope on an entity not synced by scope, and a cursor of another scope, are refused', async () => {
    const t = tenant();
    const s = await seed(t);
    const bad = await postGraphql(server.url, PULL, { entity: 'Project', scope: s.p1 }, token(t));
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_SCOPE');
    expect(bad.errors?.[0]?.message).toContain('Task, TaskNote');
    const page = await pull(t, 'Task', { scope: s.p1 });
    const mixed = await postGraphql(server.url, PULL, { entity: 'Task', scope: s.p2, cursor: page.cursor }, token(t));
    expect(mixed.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
  });
});
