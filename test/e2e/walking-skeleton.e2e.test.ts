/**
 * The walking skeleton end to end: the generated server over HTTP on real Prisma
 * (SQLite), real WatermelonDB databases on disk (SQLite adapter in Node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { exampleDatabases, postGraphql, switchableFetch, type RunningServer } from '../support/example-server.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const databases = await exampleDatabases('walking_skeleton');

let server: RunningServer;
const dirs: string[] = [];
const clients: OfflineFirstClient[] = [];

function device(tenantId: string, userId: string, net = switchableFetch()): { client: OfflineFirstClient; net: ReturnType<typeof switchableFetch> } {
  const dbDir = mkdtempSync(path.join(tmpdir(), `trackhub-device-${tenantId}-`));
  dirs.push(dbDir);
  const client = createClient({ tenantId, url: server.url, token: `dev:${tenantId}:${userId}`, dbDir, fetch: net.fetch });
  clients.push(client);
  return { client, net };
}

const gql = (query: string, variables: Record<string, unknown>, token?: string) => postGraphql(server.url, query, variables, token);

describe.each(databases)('walking skeleton on $name: offline device -> server -> second device', ({ start }) => {
  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('syncs offline creates, a relation, an update and a delete; replays do not duplicate; tenants do not leak', async () => {
    const a = device('t1', 'alice');

    // An older Space that is already on the server.
    const old = await a.client.spaces.create({ name: 'Old space', ownerId: 'alice' });
    await a.client.syncAll();
    const oldOnServer = await server.prisma.space.findFirst({ where: { clientId: old.id } });
    expect(oldOnServer).toMatchObject({ tenantId: 't1', name: 'Old space', version: 1 });

    // Airplane mode: everything happens locally at once and is queued.
    a.net.online = false;
    const space = await a.client.spaces.create({ name: 'Kitchen', ownerId: 'alice', kind: 'PERSONAL', position: 2 });
    expect(space.id).toMatch(UUID_V7);
    expect(space.serverId).toBeNull();
    const group = await a.client.groups.create({ name: 'Shelves', spaceId: space.id });
    expect(group.id).toMatch(UUID_V7);
    await a.client.spaces.update(space.id, { name: 'Kitchen (renamed)', description: 'ground floor' });
    await a.client.spaces.delete(old.id);
    expect((await a.client.spaces.get(space.id))?.name).toBe('Kitchen (renamed)');
    expect((await a.client.spaces.list()).map((s) => s.name)).toEqual(['Kitchen (renamed)']);
    await expect(a.client.syncAll()).rejects.toThrow();
    expect(await a.client.queueSize()).toBeGreaterThan(0);
    expect(await server.prisma.space.count({ where: { clientId: space.id } })).toBe(0);

    // Back online.
    a.net.online = true;
    a.net.requests.length = 0;
    await a.client.syncAll();
    expect(await a.client.queueSize()).toBe(0);

    const spaceRow = await server.prisma.space.findFirst({ where: { clientId: space.id } });
    expect(spaceRow).toMatchObject({ tenantId: 't1', name: 'Kitchen (renamed)', description: 'ground floor', kind: 'PERSONAL', position: 2, ownerId: 'alice', deletedAt: null });
    const groupRow = await server.prisma.group.findFirst({ where: { clientId: group.id } });
    expect(groupRow).toMatchObject({ tenantId: 't1', name: 'Shelves', spaceId: spaceRow.id });
    const oldRow = await server.prisma.space.findUnique({ where: { id: oldOnServer.id } });
    expect(oldRow.deletedAt).toBeInstanceOf(Date);
    expect(oldRow.version).toBe(2);

    // Records created offline now carry their server ids on the device.
    const localSpace = await a.client.spaces.get(space.id);
    expect(localSpace?.serverId).toBe(spaceRow.id);
    expect((await a.client.groups.get(group.id))?.serverId).toBe(groupRow.id);
    expect(await a.client.spaces.get(old.id)).toBeNull();

    // Device B of the same tenant pulls exactly the same rows.
    const b = device('t1', 'alice');
    await b.client.syncAll();
    const bSpaces = await b.client.spaces.list();
    expect(bSpaces.map((s) => [s.serverId, s.name, s.description, s.kind, s.version])).toEqual([
      [spaceRow.id, 'Kitchen (renamed)', 'ground floor', 'PERSONAL', spaceRow.version],
    ]);
    const bGroups = await b.client.groups.list();
    expect(bGroups).toHaveLength(1);
    expect(bGroups[0].serverId).toBe(groupRow.id);
    // The relation points at B's local copy of the Space.
    expect(bGroups[0].spaceId).toBe(bSpaces[0].id);
    expect(bSpaces[0].id).toBe(space.id); // same local id on every device: the clientId

    // Replaying A's push batches creates no duplicate and changes nothing.
    const pushes = a.net.requests.filter((r) => r.body.includes('syncPush'));
    expect(pushes.length).toBeGreaterThan(0);
    const before = { spaces: await server.prisma.space.count(), groups: await server.prisma.group.count() };
    for (const push of pushes) {
      const { query, variables } = JSON.parse(push.body);
      const replay = await gql(query, variables, 'dev:t1:alice');
      expect(replay.errors).toBeUndefined();
    }
    expect({ spaces: await server.prisma.space.count(), groups: await server.prisma.group.count() }).toEqual(before);
    expect(await server.prisma.space.count({ where: { clientId: space.id } })).toBe(1);

    // A device of tenant t2 sees none of it.
    const c = device('t2', 'carol');
    await c.client.syncAll();
    expect(await c.client.spaces.list()).toEqual([]);
    expect(await c.client.groups.list()).toEqual([]);
    const t2pull = await gql('query { syncPull(entity: "Space") { items hasMore } }', {}, 'dev:t2:carol');
    expect(t2pull.data.syncPull.items).toEqual([]);
    // Including tombstones, t1 has both Spaces.
    const t1pull = await gql('query { syncPull(entity: "Space") { items hasMore } }', {}, 'dev:t1:alice');
    expect(t1pull.data.syncPull.items.map((i: any) => i.id).sort()).toEqual([oldOnServer.id, spaceRow.id].sort());
  });

  it('rejects requests without a valid token as UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'garbage', 'dev:onlytenant']) {
      const res = await gql('query { syncPull(entity: "Space") { items } }', {}, token);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
      expect(res.data).toBeNull();
    }
  });
});
