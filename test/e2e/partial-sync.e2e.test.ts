/**
 * Partial sync end to end: the generated server over HTTP (SQLite, and PostgreSQL when
 * available) and real WatermelonDB devices of one tenant with different subscriptions.
 *
 * Fixture: Project (tenant-wide; private to its ProjectMember rows when it has any),
 * Task `@sync(scope: "project")`, TaskNote `@sync(scope: "task.project")`.
 *
 * - two devices see exactly their subscribed subtrees (notes through two hops), and
 *   adding a second scope pulls only that one;
 * - a revoked membership removes the project and its subtree from the device on its
 *   next sync, and the subscription reads `revoked`;
 * - a reset pass that kept a record back (unsynced change) starts the stream over, so
 *   what it dropped comes back when the rules change back;
 * - a task moved between projects moves between the devices, its notes with it;
 * - a task moved between two projects a device subscribes to stays on it (the old
 *   project's removal does not take it away), moved by that device or another;
 * - removing a scope evicts its rows at once, except a record with an unsynced change,
 *   which is pushed by the next sync and then evicted: nothing is lost;
 * - a task created offline in a project that then became private is refused and waits;
 *   moved by the user to a readable project, the create goes again with the move and
 *   syncs, and the private project, no longer held by it, leaves the device;
 * - a record created offline inside a subscribed scope stays and syncs; one created
 *   outside every subscribed scope leaves the device once it has synced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const variants = await databaseVariants('partial sync e2e');

for (const variant of variants) {
  describe(`partial sync with real devices on ${variant.name}`, () => {
    const open: OfflineFirstClient[] = [];
    afterAll(async () => {
      for (const client of open) {
        await client.close();
        closeNodeDatabase(client.database);
      }
    });
    const example = useExampleServer(variant.provider, 'partial', { beforeAll, afterAll });
    const root = mkdtempSync(path.join(tmpdir(), 'trackhub-partial-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    let n = 0;
    const tenant = () => `ps${process.pid}x${++n}`;
    const device = (t: string, user = 'u') => {
      const client = createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:${user}`, dbDir: mkdtempSync(path.join(root, 'd-')) });
      open.push(client);
      return client;
    };
    const titles = async (c: OfflineFirstClient) => (await c.tasks.list()).map((x) => x.title).sort();
    const bodies = async (c: OfflineFirstClient) => (await c.taskNotes.list()).map((x) => x.body).sort();
    const names = async (c: OfflineFirstClient) => (await c.projects.list()).map((x) => x.name).sort();

    /** An author device with two projects, two tasks each, a note on each task; synced. */
    const seed = async (t: string) => {
      const author = device(t, 'author');
      const p1 = await author.projects.create({ name: 'one' });
      const p2 = await author.projects.create({ name: 'two' });
      // Subscribed while the projects exist only on this device: the subscriptions learn their server ids on sync.
      await author.scopes.add('Project', p1.id);
      await author.scopes.add('Project', p2.id);
      const tasks = {
        a: await author.tasks.create({ title: 'a', projectId: p1.id }),
        b: await author.tasks.create({ title: 'b', projectId: p1.id }),
        c: await author.tasks.create({ title: 'c', projectId: p2.id }),
        d: await author.tasks.create({ title: 'd', projectId: p2.id }),
      };
      for (const [k, task] of Object.entries(tasks)) await author.taskNotes.create({ body: `${k}1`, taskId: task.id });
      await author.syncAll();
      expect((await author.scopes.list()).every((x) => x.serverId !== null && x.status === 'active')).toBe(true);
      const p1Server = (await author.projects.get(p1.id))!.serverId!;
      const p2Server = (await author.projects.get(p2.id))!.serverId!;
      return { author, p1, p2, p1Server, p2Server, tasks };
    };
    /** A device of `user` that knows the projects and subscribes to the one named `name`. */
    const subscriber = async (t: string, user: string, ...projectNames: string[]) => {
      const c = device(t, user);
      await c.syncAll();
      for (const name of projectNames) {
        const project = (await c.projects.list()).find((p) => p.name === name)!;
        await c.scopes.add('Project', project.id);
      }
      await c.syncAll();
      return c;
    };

    it('two devices see exactly their subtrees; adding a scope pulls only that one', async () => {
      const t = tenant();
      await seed(t);
      const none = device(t, 'nobody');
      await none.syncAll();
      expect(await names(none)).toEqual(['one', 'two']);
      expect(await titles(none)).toEqual([]);
      expect(await bodies(none)).toEqual([]);

      const b = await subscriber(t, 'bob', 'one');
      const c = await subscriber(t, 'carol', 'two');
      expect(await titles(b)).toEqual(['a', 'b']);
      expect(await bodies(b)).toEqual(['a1', 'b1']);
      expect(await titles(c)).toEqual(['c', 'd']);
      expect(await bodies(c)).toEqual(['c1', 'd1']);
      expect((await b.scopes.list()).map((s) => [s.entity, s.status])).toEqual([['Project', 'active']]);

      // A second scope: only its rows come down.
      const two = (await b.projects.list()).find((p) => p.name === 'two')!;
      await b.scopes.add('Project', two.id);
      const report = await b.syncAll();
      const pulled = Object.fromEntries(report.entities.map((e) => [e.entity, e.pulled]));
      expect(pulled.Task).toBe(2);
      expect(pulled.TaskNote).toBe(2);
      expect(await titles(b)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('a reset pass that kept a record back, then rules that change back: the records it dropped come back', async () => {
      const t = tenant();
      const s = await seed(t);
      const bob = device(t, 'bob');
      await bob.syncAll();
      expect(await names(bob)).toEqual(['one', 'two']);
      // An unsynced change keeps "one" on bob's device whatever the rules say.
      const one = (await bob.projects.list()).find((p) => p.name === 'one')!;
      await bob.projects.update(one.id, { name: 'one, edited' });
      // Both projects become private to alice: bob's next pull is a reset pass, which drops "two" only.
      await example.server.prisma.projectMember.createMany({
        data: [s.p1Server, s.p2Server].map((projectId) => ({ tenantId: t, projectId, userId: 'alice' })),
      });
      await bob.syncPull();
      expect(await names(bob)).toEqual(['one, edited']);
      // The memberships go: both projects are open to the tenant again, under the rules bob's
      // old position was issued with. "two" must come back all the same.
      await example.server.prisma.projectMember.deleteMany({ where: { tenantId: t } });
      await bob.syncPull();
      expect(await names(bob)).toEqual(['one, edited', 'two']);
      await bob.syncAll();
      expect(await names(bob)).toEqual(['one, edited', 'two']);
      expect((await example.server.prisma.project.findFirst({ where: { tenantId: t, id: s.p1Server } }))?.name).toBe('one, edited');
      // The stream is a plain one again: nothing new, nothing dropped.
      const again = await bob.syncPull();
      expect(again.entities.find((e) => e.entity === 'Project')).toMatchObject({ pulled: 0, removed: 0 });
    });

    it('a revoked membership removes the project and its subtree on the next sync', async () => {
      const t = tenant();
      const s = await seed(t);
      const bob = await subscriber(t, 'bob', 'one', 'two');
      expect(await titles(bob)).toEqual(['a', 'b', 'c', 'd']);
      // p2 becomes private to alice.
      await example.server.prisma.projectMember.create({ data: { tenantId: t, projectId: s.p2Server, userId: 'alice' } });
      await bob.syncAll();
      expect(await names(bob)).toEqual(['one']);
      expect(await titles(bob)).toEqual(['a', 'b']);
      expect(await bodies(bob)).toEqual(['a1', 'b1']);
      const scopes = await bob.scopes.list();
      expect(scopes.find((x) => x.serverId === s.p2Server)?.status).toBe('revoked');
      expect(scopes.find((x) => x.serverId === s.p1Server)?.status).toBe('active');
      // Alice, a member, still has all of it.
      const alice = await subscriber(t, 'alice', 'two');
      expect(await titles(alice)).toEqual(['c', 'd']);
      // Membership given back: adding the scope again brings the subtree back.
      await example.server.prisma.projectMember.create({ data: { tenantId: t, projectId: s.p2Server, userId: 'bob' } });
      await bob.syncAll();
      expect(await names(bob)).toEqual(['one', 'two']);
      const two = (await bob.projects.list()).find((p) => p.name === 'two')!;
      await bob.scopes.add('Project', two.id);
      await bob.syncAll();
      expect(await titles(bob)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('moving a task between projects moves it, and its notes, between devices', async () => {
      const t = tenant();
      const s = await seed(t);
      const b = await subscriber(t, 'bob', 'one');
      const c = await subscriber(t, 'carol', 'two');
      await s.author.tasks.update(s.tasks.a.id, { projectId: s.p2.id });
      await s.author.syncAll();
      await b.syncAll();
      await c.syncAll();
      expect(await titles(b)).toEqual(['b']);
      expect(await bodies(b)).toEqual(['b1']);
      expect(await titles(c)).toEqual(['a', 'c', 'd']);
      expect(await bodies(c)).toEqual(['a1', 'c1', 'd1']);
      // Carol's copy points at project two, locally too.
      const moved = (await c.tasks.list()).find((x) => x.title === 'a')!;
      const two = (await c.projects.list()).find((p) => p.name === 'two')!;
      expect(moved.projectId).toBe(two.id);
    });

    it('a task moved between two projects the device subscribes to stays on it, whoever moved it', async () => {
      const t = tenant();
      const s = await seed(t);
      const b = await subscriber(t, 'bob', 'one', 'two');
      const two = (await b.projects.list()).find((p) => p.name === 'two')!;
      // Bob moves a task himself...
      const a = (await b.tasks.list()).find((x) => x.title === 'a')!;
      await b.tasks.update(a.id, { projectId: two.id });
      await b.syncAll();
      await b.syncAll();
      // ...and the author moves another.
      await s.author.tasks.update(s.tasks.b.id, { projectId: s.p2.id });
      await s.author.syncAll();
      await b.syncAll();
      await b.syncAll();
      expect(await titles(b)).toEqual(['a', 'b', 'c', 'd']);
      expect(await bodies(b)).toEqual(['a1', 'b1', 'c1', 'd1']);
      // All four now hang under project two, locally too.
      for (const task of await b.tasks.list()) expect(task.projectId, task.title).toBe(two.id);
    });

    it('removing a scope evicts its rows at once, keeps an unsynced change until it is pushed, then evicts it', async () => {
      const t = tenant();
      const s = await seed(t);
      const b = await subscriber(t, 'bob', 'one', 'two');
      const a = (await b.tasks.list()).find((x) => x.title === 'a')!;
      await b.tasks.update(a.id, { title: 'a (edited offline)' });
      const one = (await b.projects.list()).find((p) => p.name === 'one')!;
      await b.scopes.remove('Project', one.id);
      // At once: the clean rows of project one are gone; the edited task stays (and project two is untouched).
      expect(await titles(b)).toEqual(['a (edited offline)', 'c', 'd']);
      expect(await bodies(b)).toEqual(['c1', 'd1']);
      expect((await b.scopes.list()).find((x) => x.id === one.id)?.status).toBe('removing');
      await b.syncAll();
      // Pushed, then evicted.
      const row = await example.server.prisma.task.findFirst({ where: { tenantId: t, title: 'a (edited offline)' } });
      expect(row?.projectId).toBe(s.p1Server);
      expect(await titles(b)).toEqual(['c', 'd']);
      expect((await b.scopes.list()).map((x) => x.id)).not.toContain(one.id);
      expect(await b.queueSize()).toBe(0);
    });

    it('a task created offline in a project that became private is refused; moved to a readable one it syncs, and the private project leaves the device', async () => {
      const t = tenant();
      const s = await seed(t);
      const b = await subscriber(t, 'bob', 'one');
      const two = (await b.projects.list()).find((p) => p.name === 'two')!;
      const task = await b.tasks.create({ title: 'offline in two', projectId: two.id });
      // Meanwhile project two becomes private to alice.
      await example.server.prisma.projectMember.create({ data: { tenantId: t, projectId: s.p2Server, userId: 'alice' } });
      await b.syncAll();
      // Refused (the parent is not readable): the task waits, and so does project two above it.
      expect(await example.server.prisma.task.count({ where: { tenantId: t, title: 'offline in two' } })).toBe(0);
      expect((await b.engine.queue.all()).map((op) => [op.operation, op.lastError?.split(':')[0]])).toEqual([['insert', 'VALIDATION_FAILED']]);
      expect(await names(b)).toEqual(['one', 'two']);
      // The user moves it to project one: the refused create goes again with the task as it is now
      // (the move queued behind it, which the server then finds already applied).
      const one = (await b.projects.list()).find((p) => p.name === 'one')!;
      await b.tasks.update(task.id, { projectId: one.id });
      expect((await b.engine.queue.all()).map((op) => op.operation)).toEqual(['insert', 'update']);
      await b.syncAll();
      const row = await example.server.prisma.task.findFirst({ where: { tenantId: t, title: 'offline in two' } });
      expect(row?.projectId).toBe(s.p1Server);
      expect(await b.queueSize()).toBe(0);
      expect(await titles(b)).toEqual(['a', 'b', 'offline in two']);
      // Nothing holds project two on this device any more: it leaves with the next pass.
      await b.syncAll();
      expect(await names(b)).toEqual(['one']);
    });

    it('a record created offline inside a subscribed scope stays on the device and syncs', async () => {
      const t = tenant();
      await seed(t);
      const b = await subscriber(t, 'bob', 'one');
      const one = (await b.projects.list()).find((p) => p.name === 'one')!;
      const task = await b.tasks.create({ title: 'offline', projectId: one.id });
      await b.taskNotes.create({ body: 'offline note', taskId: task.id });
      await b.syncAll();
      await b.syncAll();
      expect(await titles(b)).toEqual(['a', 'b', 'offline']);
      expect(await bodies(b)).toEqual(['a1', 'b1', 'offline note']);
      const c = await subscriber(t, 'carol', 'one');
      expect(await titles(c)).toEqual(['a', 'b', 'offline']);
      // Outside every subscribed scope: kept until pushed, then gone from this device (and on the server).
      const two = (await b.projects.list()).find((p) => p.name === 'two')!;
      await b.tasks.create({ title: 'elsewhere', projectId: two.id });
      expect(await titles(b)).toEqual(['a', 'b', 'elsewhere', 'offline']);
      await b.syncAll();
      expect(await titles(b)).toEqual(['a', 'b', 'offline']);
      expect(await example.server.prisma.task.count({ where: { tenantId: t, title: 'elsewhere' } })).toBe(1);
    });
  });
}
