/**
 * The generated services' batch writes (createMany, updateMany, deleteMany) leave
 * the device's queue, and after sync the server, exactly as the same changes made
 * one call at a time: two devices of two tenants run one script, one with single
 * calls and one with batches, against the real generated server on SQLite and
 * PostgreSQL. The script covers every coalescing case (update of a waiting insert,
 * update of a waiting update, the same record twice in one batch, delete of a
 * waiting insert and of a waiting update, delete of a synced record).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { RecordNotFoundError, ValidationError } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const variants = await databaseVariants('batch local writes e2e');

type Update = { id: string; patch: { name?: string; description?: string | null; position?: number } };

/** The same changes through single calls or through batches. */
interface Writer {
  create(inputs: { name: string; ownerId: string; position: number }[]): Promise<string[]>;
  update(changes: Update[]): Promise<void>;
  delete(ids: string[]): Promise<void>;
}

const single = (client: OfflineFirstClient): Writer => ({
  create: async (inputs) => {
    const ids: string[] = [];
    for (const input of inputs) ids.push((await client.spaces.create(input)).id);
    return ids;
  },
  update: async (changes) => {
    for (const c of changes) await client.spaces.update(c.id, c.patch);
  },
  delete: async (ids) => {
    for (const id of ids) await client.spaces.delete(id);
  },
});

const batch = (client: OfflineFirstClient): Writer => ({
  create: async (inputs) => (await client.spaces.createMany(inputs)).map((r) => r.id),
  update: (changes) => client.spaces.updateMany(changes).then(() => undefined),
  delete: (ids) => client.spaces.deleteMany(ids),
});

/** Records by name (ids differ between devices), including soft-deleted ones. */
async function namesById(client: OfflineFirstClient): Promise<Map<string, string>> {
  const rows = await client.database.get('spaces').query().fetch();
  return new Map(rows.map((r) => [r.id, (r._raw as unknown as Record<string, string>).name!]));
}

/** The device's queue in order, with record ids replaced by the record's name at creation. */
async function queueRows(client: OfflineFirstClient, createdName: Map<string, string>) {
  return (await client.engine.queue.all()).map((op) => ({
    entity: op.entity,
    record: createdName.get(op.entityId),
    operation: op.operation,
    payload: op.payload,
    base: op.base,
    status: op.status,
    attempts: op.attempts,
  }));
}

async function script(client: OfflineFirstClient, w: Writer) {
  const input = (i: number) => ({ name: `s${i}`, ownerId: 'u', position: i });
  const synced = await w.create([0, 1, 2, 3, 4, 5].map(input));
  await client.syncAll();
  const fresh = await w.create([6, 7, 8].map(input));
  const createdName = new Map([...synced, ...fresh].map((id, i) => [id, `s${i}`]));
  await w.update([
    { id: synced[0]!, patch: { name: 's0 edited', position: 100 } },
    { id: fresh[0]!, patch: { description: 'waiting insert, updated' } },
    { id: synced[1]!, patch: { name: 's1 renamed', description: 'first' } },
    { id: synced[1]!, patch: { description: 'second', position: 101 } }, // the same record twice
    { id: synced[2]!, patch: { position: 102 } },
    { id: fresh[1]!, patch: { name: 's7 edited' } },
  ]);
  await w.update([
    { id: synced[0]!, patch: { description: 'update of a waiting update' } },
    { id: synced[3]!, patch: { name: 's3 edited' } },
  ]);
  await w.delete([synced[2]!, fresh[2]!, synced[4]!]); // waiting update, waiting insert, synced
  return { createdName, synced, fresh };
}

for (const variant of variants) {
  describe(`batch local writes on ${variant.name}`, () => {
    const example = useExampleServer(variant.provider, 'batchwrites', { beforeAll, afterAll });
    const root = mkdtempSync(path.join(tmpdir(), 'trackhub-batch-writes-'));
    const open: OfflineFirstClient[] = [];
    afterAll(async () => {
      for (const client of open) {
        await client.close();
        closeNodeDatabase(client.database);
      }
      rmSync(root, { recursive: true, force: true });
    });
    const device = (tenant: string) => {
      const client = createClient({ tenantId: tenant, url: example.server.url, token: `dev:${tenant}:u`, dbDir: mkdtempSync(path.join(root, 'd-')) });
      open.push(client);
      return client;
    };
    const serverRows = async (tenant: string) =>
      (await example.server.prisma.space.findMany({ where: { tenantId: tenant } }))
        .map((r: { name: string; description: string | null; position: number; version: number; deletedAt: Date | null }) => ({
          name: r.name,
          description: r.description,
          position: r.position,
          version: r.version,
          deleted: r.deletedAt !== null,
        }))
        .sort((a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1));

    it('N single calls and the same changes in batches leave the same queue rows, records and server state', async () => {
      const tA = `bw${process.pid}a`;
      const tB = `bw${process.pid}b`;
      const a = device(tA);
      const b = device(tB);
      const ra = await script(a, single(a));
      const rb = await script(b, batch(b));

      const qa = await queueRows(a, ra.createdName);
      const qb = await queueRows(b, rb.createdName);
      // The script's coalescing cases, as one-by-one calls leave them.
      expect(qa.map((r) => `${r.record}:${r.operation}`)).toEqual(['s6:insert', 's7:insert', 's0:update', 's1:update', 's2:delete', 's3:update', 's4:delete']);
      expect(qa.find((r) => r.record === 's6')).toMatchObject({ payload: { name: 's6', position: 6, description: 'waiting insert, updated' } });
      expect(qa.find((r) => r.record === 's1')).toMatchObject({ payload: { name: 's1 renamed', description: 'second', position: 101 }, base: { name: 's1', description: null, position: 1 } });
      expect(qa.find((r) => r.record === 's0')).toMatchObject({
        payload: { name: 's0 edited', position: 100, description: 'update of a waiting update' },
        base: { name: 's0', position: 0, description: null },
      });
      expect(qb).toEqual(qa);

      const records = async (c: OfflineFirstClient) => (await c.spaces.list()).map(({ name, description, position, version }) => ({ name, description, position, version })).sort((x, y) => (x.name < y.name ? -1 : 1));
      expect(await records(b)).toEqual(await records(a));
      expect([...(await namesById(b)).values()].sort()).toEqual([...(await namesById(a)).values()].sort());

      await a.syncAll();
      await b.syncAll();
      expect(await a.queueSize()).toBe(0);
      expect(await b.queueSize()).toBe(0);
      const server = await serverRows(tA);
      expect(server.map((r: { name: string }) => r.name)).toEqual(['s0 edited', 's1 renamed', 's2', 's3 edited', 's4', 's5', 's6', 's7 edited']);
      expect(server.filter((r: { deleted: boolean }) => r.deleted).map((r: { name: string }) => r.name)).toEqual(['s2', 's4']);
      expect(await serverRows(tB)).toEqual(server);
    });

    it('a batch over more records than one look-up query takes (600) coalesces every one', async () => {
      const c = device(`bw${process.pid}d`);
      const made = await c.spaces.createMany(Array.from({ length: 600 }, (_, i) => ({ name: `n${i}`, ownerId: 'u', position: i })));
      await c.spaces.updateMany(made.map((r, i) => ({ id: r.id, patch: { position: 1000 + i } })));
      await c.spaces.deleteMany(made.slice(0, 10).map((r) => r.id));
      const ops = await c.engine.queue.all();
      expect(ops).toHaveLength(590);
      expect(ops.every((op) => op.operation === 'insert' && op.status === 'pending')).toBe(true);
      expect(ops.map((op) => op.payload.position)).toEqual(Array.from({ length: 590 }, (_, i) => 1010 + i));
      expect(await c.spaces.count()).toBe(590);
    });

    it('a batch is atomic: a missing record, a repeated delete or a bad value writes nothing', async () => {
      const t = `bw${process.pid}c`;
      const c = device(t);
      const [x, y] = await c.spaces.createMany([
        { name: 'x', ownerId: 'u', position: 1 },
        { name: 'y', ownerId: 'u', position: 2 },
      ]);
      const before = await c.engine.queue.all();
      await expect(c.spaces.updateMany([{ id: x!.id, patch: { name: 'x2' } }, { id: 'missing', patch: { name: 'm' } }])).rejects.toThrow(RecordNotFoundError);
      await expect(c.spaces.updateMany([{ id: x!.id, patch: { name: 'x2' } }, { id: y!.id, patch: { position: 1.5 } }])).rejects.toThrow(ValidationError);
      await expect(c.spaces.deleteMany([x!.id, y!.id, x!.id])).rejects.toThrow(RecordNotFoundError);
      await expect(c.spaces.createMany([{ name: 'ok', ownerId: 'u', position: 3 }, { name: 'bad', ownerId: 'u', position: 0.5 }])).rejects.toThrow(ValidationError);
      expect((await c.spaces.list()).map((r) => r.name).sort()).toEqual(['x', 'y']);
      expect((await c.engine.queue.all()).map((op) => [op.entityId, op.operation, op.payload])).toEqual(before.map((op) => [op.entityId, op.operation, op.payload]));
    });
  });
}
