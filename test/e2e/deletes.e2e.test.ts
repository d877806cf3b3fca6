/**
 * Deletes and relations, end to end: the generated server over HTTP (SQLite, and
 * PostgreSQL when available) and real WatermelonDB devices. The fixture's relations:
 *
 *   ChecklistItem.checklist   onDelete: Cascade (explicit)
 *   Checklist.space           optional, no onDelete: Prisma's default SetNull
 *   Group.space               required, no onDelete: Prisma's default Restrict
 *
 * - Cascade: deleting a Checklist on one device tombstones its items on the server and
 *   on every device, including an item another device created offline under it;
 * - SetNull: deleting a Space clears the reference of its Checklists everywhere,
 *   including one created offline under it;
 * - the device applies the same rules at once to what it holds (Restrict throws
 *   DeleteRestrictedError; a parent and child created and deleted offline leave nothing);
 * - Restrict: deleting a Space with live Groups is refused (DELETE_RESTRICTED) and the
 *   Space comes back on the device; deleting the Groups and the Space in one sync works
 *   (deletes go children first); a Group created offline under a deleted Space is
 *   given up with PARENT_DELETED;
 * - the online delete follows the same rules;
 * - concurrent child creates racing a parent delete (parallel HTTP pushes) never
 *   leave a live child under a deleted parent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { DeleteRestrictedError } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const variants = await databaseVariants('deletes and relations e2e');

for (const variant of variants) {
  describe(`deletes follow the schema's onDelete on ${variant.name}`, () => {
    const open: OfflineFirstClient[] = [];
    afterAll(async () => {
      for (const client of open) {
        await client.close();
        closeNodeDatabase(client.database);
      }
    });
    const example = useExampleServer(variant.provider, 'deletes', { beforeAll, afterAll });
    const root = mkdtempSync(path.join(tmpdir(), 'trackhub-deletes-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    let n = 0;
    const tenant = () => `del${process.pid}x${++n}`;
    const device = (t: string, user = 'u') => {
      const client = createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:${user}`, dbDir: mkdtempSync(path.join(root, 'd-')) });
      open.push(client);
      return client;
    };
    const gql = async (t: string, query: string, variables: Record<string, unknown>) => {
      const response = await fetch(example.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer dev:${t}:u` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
    };
    const prisma = () => example.server.prisma;

    it('Cascade: a deleted checklist takes its items with it, on the server and on every device, offline-created ones included', async () => {
      const t = tenant();
      const a = device(t);
      const b = device(t);
      const list = await a.checklists.create({ title: 'trip' });
      const first = await a.checklistItems.create({ label: 'tent', checklistId: list.id });
      await a.checklistItems.create({ label: 'stove', checklistId: list.id });
      await a.syncAll();
      await b.syncAll();
      expect((await b.checklistItems.list()).map((i) => i.label).sort()).toEqual(['stove', 'tent']);
      // B adds an item while offline; A deletes the checklist meanwhile.
      await b.checklistItems.create({ label: 'map', checklistId: list.id });
      await a.checklists.delete(list.id);
      await a.syncAll();

      const serverList = await prisma().checklist.findFirst({ where: { tenantId: t, clientId: list.id } });
      expect(serverList.deletedAt).not.toBeNull();
      const items = await prisma().checklistItem.findMany({ where: { tenantId: t } });
      expect(items).toHaveLength(2);
      for (const item of items) {
        expect(item.deletedAt, `${item.label} tombstoned with its checklist`).not.toBeNull();
        expect(item.version).toBe(2);
      }
      // A pulls the cascaded tombstones of the items it never deleted itself.
      expect(await a.checklistItems.list()).toEqual([]);
      expect(await a.checklistItems.get(first.id)).toBeNull();

      await b.syncAll();
      expect(await b.checklists.list()).toEqual([]);
      expect(await b.checklistItems.list()).toEqual([]);
      expect(await b.queueSize()).toBe(0);
      expect(await b.givenUp()).toEqual([]);
      // B's offline item reached the server, stored deleted under its deleted checklist.
      const map = await prisma().checklistItem.findFirst({ where: { tenantId: t, label: 'map' } });
      expect(map.deletedAt).not.toBeNull();
      expect(await prisma().checklistItem.count({ where: { tenantId: t, deletedAt: null } })).toBe(0);
    });

    it('SetNull: a deleted space leaves its checklists in place with the reference cleared, everywhere', async () => {
      const t = tenant();
      const a = device(t);
      const b = device(t);
      const space = await a.spaces.create({ name: 'home', ownerId: 'o' });
      const kept = await a.checklists.create({ title: 'groceries', spaceId: space.id });
      await a.syncAll();
      await b.syncAll();
      await b.checklists.create({ title: 'offline', spaceId: space.id });
      await a.spaces.delete(space.id);
      await a.syncAll();

      const row = await prisma().checklist.findFirst({ where: { tenantId: t, clientId: kept.id } });
      expect(row).toMatchObject({ spaceId: null, deletedAt: null, version: 2 });
      expect((await a.checklists.get(kept.id))?.spaceId).toBeNull();

      await b.syncAll();
      const onB = (await b.checklists.list()).map((c) => [c.title, c.spaceId]).sort();
      expect(onB).toEqual([
        ['groceries', null],
        ['offline', null],
      ]);
      const offline = await prisma().checklist.findFirst({ where: { tenantId: t, title: 'offline' } });
      expect(offline).toMatchObject({ spaceId: null, deletedAt: null });
      await a.syncAll();
      expect((await a.checklists.list()).map((c) => [c.title, c.spaceId]).sort()).toEqual(onB);
    });

    it('Restrict on the device: a space whose groups the device holds cannot be deleted there', async () => {
      const t = tenant();
      const a = device(t);
      const space = await a.spaces.create({ name: 'shed', ownerId: 'o' });
      await a.groups.create({ name: 'rakes', spaceId: space.id });
      await expect(a.spaces.delete(space.id)).rejects.toThrow(DeleteRestrictedError);
      await expect(a.spaces.delete(space.id)).rejects.toThrow(/still has 1 live Group record\(s\) on this device \(Group.spaceId is onDelete: Restrict/);
      expect((await a.spaces.get(space.id))?.name).toBe('shed');
      await a.syncAll();
      expect(await prisma().space.count({ where: { tenantId: t, deletedAt: null } })).toBe(1);
    });

    it('a parent and its children created and deleted before any sync: nothing is sent, nothing is left', async () => {
      const t = tenant();
      const a = device(t);
      const space = await a.spaces.create({ name: 'draft', ownerId: 'o' });
      const list = await a.checklists.create({ title: 'draft list', spaceId: space.id });
      await a.checklistItems.create({ label: 'draft item', checklistId: list.id });
      await a.checklists.delete(list.id);
      expect(await a.checklistItems.list()).toEqual([]);
      await a.spaces.delete(space.id);
      expect(await a.queueSize()).toBe(0);
      await a.syncAll();
      expect(await a.givenUp()).toEqual([]);
      expect(await prisma().checklistItem.count({ where: { tenantId: t } })).toBe(0);
      expect(await prisma().checklist.count({ where: { tenantId: t } })).toBe(0);
    });

    it('deleteMany follows the relations too: the items of both checklists go, a Restrict parent is refused as a whole', async () => {
      const t = tenant();
      const a = device(t);
      const lists = await a.checklists.createMany([{ title: 'one' }, { title: 'two' }]);
      for (const list of lists) await a.checklistItems.create({ label: `in ${list.title}`, checklistId: list.id });
      await a.syncAll();
      await a.checklists.deleteMany(lists.map((l) => l.id));
      expect(await a.checklistItems.list()).toEqual([]);
      await a.syncAll();
      expect(await prisma().checklistItem.count({ where: { tenantId: t, deletedAt: null } })).toBe(0);
      expect(await prisma().checklist.count({ where: { tenantId: t, deletedAt: null } })).toBe(0);

      const [kept, free] = await a.spaces.createMany([{ name: 'kept', ownerId: 'o' }, { name: 'free', ownerId: 'o' }]);
      await a.groups.create({ name: 'g', spaceId: kept!.id });
      await expect(a.spaces.deleteMany([free!.id, kept!.id])).rejects.toThrow(DeleteRestrictedError);
      expect((await a.spaces.list()).map((s) => s.name).sort()).toEqual(['free', 'kept']); // nothing written
    });

    it('Restrict on the server: a space with groups another device added cannot be deleted; the device gets it back and sees why', async () => {
      const t = tenant();
      const a = device(t);
      const b = device(t);
      const space = await a.spaces.create({ name: 'office', ownerId: 'o' });
      await a.syncAll();
      await b.syncAll();
      await b.groups.create({ name: 'desk', spaceId: space.id });
      await b.syncAll();

      await a.spaces.delete(space.id); // A has not pulled the group yet
      expect(await a.spaces.get(space.id)).toBeNull();
      const report = await a.syncAll();
      expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({ conflicts: 1 });
      expect((await prisma().space.findFirst({ where: { tenantId: t, clientId: space.id } })).deletedAt).toBeNull();
      expect((await a.spaces.get(space.id))?.name).toBe('office');
      expect(await a.queueSize()).toBe(0);
      expect((await a.groups.list()).map((g) => g.name)).toEqual(['desk']);
      const [conflict] = await a.listConflicts({ entity: 'Space' });
      expect(conflict).toMatchObject({ conflictType: 'delete_restricted', resolved: true, resolution: 'server' });

      // The raw answer names the code and the blocking relation.
      const serverSpace = await prisma().space.findFirst({ where: { tenantId: t, clientId: space.id } });
      const answer = await gql(t, 'mutation($items: [JSON!]!) { syncPush(entity: "Space", items: $items) { success errorCode errorMessage conflict { serverVersion } } }', {
        items: [{ id: serverSpace.id, clientId: space.id, version: serverSpace.version, deletedAt: new Date().toISOString() }],
      });
      expect(answer.data.syncPush[0]).toMatchObject({ success: false, errorCode: 'DELETE_RESTRICTED', conflict: { serverVersion: serverSpace.version } });
      expect(answer.data.syncPush[0].errorMessage).toContain('Group.spaceId is onDelete: Restrict');
    });

    it('Restrict: deleting the groups and then the space in one sync deletes both (deletes go children first)', async () => {
      const t = tenant();
      const a = device(t);
      const space = await a.spaces.create({ name: 'garage', ownerId: 'o' });
      const group = await a.groups.create({ name: 'tools', spaceId: space.id });
      await a.syncAll();
      await a.groups.delete(group.id);
      await a.spaces.delete(space.id);
      const report = await a.syncAll();
      expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({ succeeded: 1, conflicts: 0, failed: 0 });
      expect((await prisma().space.findFirst({ where: { tenantId: t } })).deletedAt).not.toBeNull();
      expect((await prisma().group.findFirst({ where: { tenantId: t } })).deletedAt).not.toBeNull();
      expect(await a.spaces.list()).toEqual([]);
    });

    it('Restrict: a group created offline under a space deleted meanwhile is given up at once with PARENT_DELETED', async () => {
      const t = tenant();
      const a = device(t);
      const b = device(t);
      const space = await a.spaces.create({ name: 'attic', ownerId: 'o' });
      await a.syncAll();
      await b.syncAll();
      const orphan = await b.groups.create({ name: 'boxes', spaceId: space.id });
      await a.spaces.delete(space.id);
      await a.syncAll();
      const report = await b.syncAll();
      expect(report.entities.find((e) => e.entity === 'Group')).toMatchObject({ failed: 1 });
      const [givenUp] = await b.givenUp('Group');
      expect(givenUp?.entityId).toBe(orphan.id);
      expect(givenUp?.lastError).toMatch(/PARENT_DELETED: spaceId: the Space .* was deleted/);
      expect(await prisma().group.count({ where: { tenantId: t } })).toBe(0);
    });

    it('the online delete follows the same rules: Cascade and SetNull are carried out, Restrict refuses with the record', async () => {
      const t = tenant();
      const a = device(t);
      const space = await a.spaces.create({ name: 'lab', ownerId: 'o' });
      const list = await a.checklists.create({ title: 'samples', spaceId: space.id });
      await a.checklistItems.create({ label: 'swab', checklistId: list.id });
      await a.groups.create({ name: 'bench', spaceId: space.id });
      await a.syncAll();
      const s = await prisma().space.findFirst({ where: { tenantId: t } });
      const refused = await gql(t, 'mutation($id: ID!, $v: Int!) { deleteSpace(id: $id, expectedVersion: $v) { id } }', { id: s.id, v: s.version });
      expect(refused.errors?.[0]?.extensions?.code).toBe('DELETE_RESTRICTED');
      expect((await prisma().space.findFirst({ where: { tenantId: t } })).deletedAt).toBeNull();

      const c = await prisma().checklist.findFirst({ where: { tenantId: t } });
      const deleted = await gql(t, 'mutation($id: ID!, $v: Int!) { deleteChecklist(id: $id, expectedVersion: $v) { id } }', { id: c.id, v: c.version });
      expect(deleted.errors).toBeUndefined();
      expect((await prisma().checklistItem.findFirst({ where: { tenantId: t } })).deletedAt).not.toBeNull();
      // An online create under the deleted checklist is refused (offline ones are stored deleted).
      const create = await gql(t, 'mutation($input: ChecklistItemCreateInput!) { createChecklistItem(input: $input) { id } }', {
        input: { label: 'late', checklistId: c.id },
      });
      expect(create.errors?.[0]?.extensions?.code).toBe('PARENT_DELETED');
      await a.syncAll();
      expect(await a.checklists.list()).toEqual([]);
      expect(await a.checklistItems.list()).toEqual([]);
    });

    it('one batch deleting several parents answers each by its own relations (children read once per batch)', async () => {
      const t = tenant();
      const push = (entity: string, items: unknown[]) =>
        gql(t, `mutation($items: [JSON!]!) { syncPush(entity: "${entity}", items: $items) { success errorCode id version } }`, { items });
      const spaces = (await push('Space', ['a', 'b', 'c'].map((n) => ({ clientId: `space-${n}`, name: n, ownerId: 'o' })))).data.syncPush;
      await push('Group', [{ clientId: 'group-a', name: 'g', spaceId: spaces[0].id }]);
      await push('Checklist', [
        { clientId: 'list-b1', title: 'b1', spaceId: spaces[1].id },
        { clientId: 'list-b2', title: 'b2', spaceId: spaces[1].id },
      ]);
      const now = new Date().toISOString();
      const answers = (await push('Space', spaces.map((sp: { id: string }) => ({ id: sp.id, version: 1, deletedAt: now })))).data.syncPush;
      expect(answers.map((a: { success: boolean; errorCode: string | null }) => [a.success, a.errorCode])).toEqual([
        [false, 'DELETE_RESTRICTED'],
        [true, null],
        [true, null],
      ]);
      expect((await prisma().space.findMany({ where: { tenantId: t, deletedAt: null } })).map((r: { name: string }) => r.name)).toEqual(['a']);
      const lists = await prisma().checklist.findMany({ where: { tenantId: t } });
      expect(lists.map((l: { spaceId: string | null; version: number }) => [l.spaceId, l.version])).toEqual([
        [null, 2],
        [null, 2],
      ]);
    });

    it('child creates racing a parent delete never leave a live child under a deleted parent', async () => {
      const t = tenant();
      const push = (entity: string, items: unknown[]) =>
        gql(t, `mutation($items: [JSON!]!) { syncPush(entity: "${entity}", items: $items) { success errorCode id version } }`, { items });
      for (let round = 0; round < 4; round++) {
        const [created] = (await push('Checklist', [{ clientId: `list-${round}`, title: `r${round}` }])).data.syncPush;
        const creates = Array.from({ length: 6 }, (_, i) =>
          push('ChecklistItem', [
            { clientId: `item-${round}-${i}a`, label: 'a', checklistId: created.id },
            { clientId: `item-${round}-${i}b`, label: 'b', checklistId: `list-${round}` },
          ]),
        );
        const deletion = push('Checklist', [{ id: created.id, clientId: `list-${round}`, version: 1, deletedAt: new Date().toISOString() }]);
        const answers = await Promise.all([...creates, deletion]);
        for (const answer of answers) expect(answer.errors).toBeUndefined();
        expect((await deletion).data.syncPush[0]).toMatchObject({ success: true, version: 2 });
        const items = await prisma().checklistItem.findMany({ where: { tenantId: t, checklistId: created.id } });
        expect(items).toHaveLength(12);
        expect(items.filter((i: { deletedAt: Date | null }) => i.deletedAt === null)).toEqual([]);
      }
    });
  });
}
