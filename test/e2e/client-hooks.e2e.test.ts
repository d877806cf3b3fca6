/**
 * Client hooks, end to end: the generated client (its createClient wires the
 * user-owned client/hooks/*.hooks.ts; a test passes its own through `hooks`)
 * against the generated server over HTTP (SQLite, and PostgreSQL when available),
 * on real WatermelonDB devices.
 *
 * - beforePush refuses a change with a reason: it never reaches the server, stays
 *   on the device, and is listed by givenUp() with that reason;
 * - beforePush adjusts a change: the server and the device both hold the adjusted value;
 * - afterPull is told what each pull applied (created, updated, deleted local ids);
 *   a throwing afterPull is reported and never stops sync.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import type { ClientHooks, PulledChanges } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const variants = await databaseVariants('client hooks e2e');

describe('the generated createClient wires the user-owned hooks files', () => {
  it('one hooks file per entity, imported by database.ts', () => {
    const database = readFileSync(path.resolve('generated-example/client/generated/database.ts'), 'utf8');
    expect(database).toContain("import { spaceHooks } from '../hooks/space.hooks.js';");
    expect(database).toContain('hooks: { ...hooksByEntity, ...options.hooks },');
    expect(readFileSync(path.resolve('generated-example/client/hooks/checklist-item.hooks.ts'), 'utf8')).toContain(
      'export const checklistItemHooks: ClientHooks = {',
    );
  });
});

for (const variant of variants) {
  describe(`client hooks on ${variant.name}`, () => {
    const open: OfflineFirstClient[] = [];
    afterAll(async () => {
      for (const client of open) {
        await client.close();
        closeNodeDatabase(client.database);
      }
    });
    const example = useExampleServer(variant.provider, 'hooks', { beforeAll, afterAll });
    const root = mkdtempSync(path.join(tmpdir(), 'trackhub-hooks-'));
    let n = 0;
    const tenant = () => `hk${process.pid}x${++n}`;
    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const device = (t: string, hooks: Record<string, ClientHooks>, extra: { onHookError?: (e: unknown) => void } = {}) => {
      const client = createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:u`, dbDir: mkdtempSync(path.join(root, 'd-')), hooks, ...extra });
      open.push(client);
      return client;
    };
    const serverNames = async (t: string) =>
      (await example.server.prisma.space.findMany({ where: { tenantId: t } })).map((r: { name: string }) => r.name).sort();

    it('beforePush refuses a change with a reason: not sent, kept on the device, listed as given up', async () => {
      const t = tenant();
      const seen: string[] = [];
      const client = device(t, {
        Space: {
          beforePush: async (change) => {
            seen.push(`${change.operation}:${String(change.values.name)}`);
            if (String(change.values.name).startsWith('forbidden')) return { refuse: 'names may not start with "forbidden"' };
            return undefined;
          },
        },
      });
      const bad = await client.spaces.create({ name: 'forbidden plan', ownerId: 'o' });
      await client.spaces.create({ name: 'fine', ownerId: 'o' });
      const report = await client.syncAll();
      expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({ pushed: 1, succeeded: 1, failed: 1 });
      expect(seen.sort()).toEqual(['insert:fine', 'insert:forbidden plan']);
      expect(await serverNames(t)).toEqual(['fine']);
      expect((await client.spaces.get(bad.id))?.name).toBe('forbidden plan');
      const givenUp = await client.givenUp('Space');
      expect(givenUp.map((op) => [op.entityId, op.lastError])).toEqual([[bad.id, 'gave up: REFUSED_BY_HOOK: names may not start with "forbidden"']]);
      await client.syncAll(); // not sent again
      expect(await serverNames(t)).toEqual(['fine']);
      expect(seen.length).toBe(2);
    });

    it('beforePush adjusts a change: the server and the device hold the adjusted values', async () => {
      const t = tenant();
      const client = device(t, {
        Space: {
          beforePush: (change) =>
            typeof change.values.name === 'string' ? { values: { name: change.values.name.trim(), description: 'checked' } } : undefined,
        },
      });
      const space = await client.spaces.create({ name: '  padded  ', ownerId: 'o' });
      await client.syncPush(['Space']); // no pull: the device record takes the adjusted values itself
      expect(await client.spaces.get(space.id)).toMatchObject({ name: 'padded', description: 'checked' });
      await client.syncAll();
      const rows = await example.server.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string; description: string | null }) => [r.name, r.description])).toEqual([['padded', 'checked']]);
      expect(await client.spaces.get(space.id)).toMatchObject({ name: 'padded', description: 'checked' });
      expect(await client.queueSize()).toBe(0);
      const other = device(t, {});
      await other.syncAll();
      expect((await other.spaces.get(space.id))?.name).toBe('padded');
    });

    it('afterPull is told what each pull applied; a throwing afterPull is reported and sync goes on', async () => {
      const t = tenant();
      const writer = device(t, {});
      const a = await writer.spaces.create({ name: 'a', ownerId: 'o' });
      const b = await writer.spaces.create({ name: 'b', ownerId: 'o' });
      await writer.syncAll();

      const calls: Omit<PulledChanges, 'entity'>[] = [];
      const errors: unknown[] = [];
      let fail = false;
      const reader = device(
        t,
        {
          Space: {
            afterPull: (changes) => {
              expect(changes.entity).toBe('Space');
              calls.push({ created: [...changes.created].sort(), updated: changes.updated, deleted: changes.deleted });
              if (fail) throw new Error('listener broke');
            },
          },
        },
        { onHookError: (e) => errors.push(e) },
      );
      await reader.syncAll();
      expect(calls).toEqual([{ created: [a.id, b.id].sort(), updated: [], deleted: [] }]);

      await writer.spaces.update(a.id, { name: 'a2' });
      await writer.spaces.delete(b.id);
      await writer.syncAll();
      fail = true;
      await reader.syncAll();
      expect(calls[1]).toEqual({ created: [], updated: [a.id], deleted: [b.id] });
      expect(errors.map((e) => (e as Error).message)).toEqual(['listener broke']);
      expect((await reader.spaces.list()).map((s) => s.name)).toEqual(['a2']);
      await reader.syncAll(); // nothing new: not called
      expect(calls.length).toBe(2);
    });
  });
}
