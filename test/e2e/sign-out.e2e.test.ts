/**
 * Signing out and switching tenants on one device, end to end: the generated
 * server over HTTP (SQLite, and PostgreSQL when available) and real
 * WatermelonDB SQLite files in one device directory.
 *
 * - sign-out refuses while changes or uploads are unsynced, and says how many;
 * - once synced (or with `discardUnsynced`), it deletes the tenant's database
 *   files: nothing of the tenant is left in the directory;
 * - two tenants on one device never mix, and signing out of one leaves the other.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { UnsyncedChangesError } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const variants = await databaseVariants('sign-out e2e');

for (const variant of variants) {
  describe(`sign-out and tenant switching on ${variant.name}`, () => {
    const example = useExampleServer(variant.provider, 'signout', { beforeAll, afterAll });
    let n = 0;
    const tenant = () => `so${process.pid}x${++n}`;
    const dirs: string[] = [];
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    const deviceDir = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-device-'));
      dirs.push(dir);
      return dir;
    };
    const open = (t: string, dbDir: string): OfflineFirstClient =>
      createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:u`, dbDir });
    const filesOf = (dir: string, t: string) => readdirSync(dir).filter((f) => f.includes(t));

    it('refuses while changes or uploads are unsynced and says how many; once synced, nothing of the tenant is left on disk', async () => {
      const t = tenant();
      const dir = deviceDir();
      const client = open(t, dir);
      const space = await client.spaces.create({ name: 'kitchen', ownerId: 'o' });
      await client.groups.create({ name: 'shelves', spaceId: space.id });
      const photo = path.join(dir, 'photo.png');
      writeFileSync(photo, Buffer.alloc(1024, 7));
      await client.spaces.attachCoverUrl(space.id, photo);

      const refused = await client.signOut().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UnsyncedChangesError);
      expect(refused).toMatchObject({ changes: 2, uploads: 1 });
      expect(String((refused as Error).message)).toBe(
        'Sign-out refused: 2 changes and 1 upload are not synced yet. Sync first (client.syncAll(), client.uploads.process()), or call signOut({ discardUnsynced: true }) to drop them.',
      );
      expect(await client.spaces.get(space.id)).toMatchObject({ name: 'kitchen' }); // nothing touched

      await client.syncAll(); // the changes go; the upload waits (this device has no uploader)
      await expect(client.signOut()).rejects.toThrow(/^Sign-out refused: 1 upload is not synced yet/);
      const report = await client.signOut({ discardUnsynced: true });
      expect(report.discarded).toEqual({ changes: 0, uploads: 1 });
      expect(report.removed.map((f) => path.basename(f))).toContain(`trackhub_db_${t}.db`);
      expect(filesOf(dir, t)).toEqual([]);
      expect(readdirSync(dir)).toEqual(['photo.png']); // the app's own file is the app's
      await expect(client.spaces.create({ name: 'after', ownerId: 'o' })).rejects.toThrow(/closed/);

      // Signing in again starts from an empty database and pulls the tenant back.
      const again = open(t, dir);
      expect(await again.spaces.list()).toEqual([]);
      await again.syncAll();
      expect((await again.spaces.list()).map((s) => s.name)).toEqual(['kitchen']);
      await again.close();
      closeNodeDatabase(again.database);
    });

    it('discardUnsynced drops the waiting changes: they never reach the server, and the files are gone', async () => {
      const t = tenant();
      const dir = deviceDir();
      const client = open(t, dir);
      await client.spaces.create({ name: 'synced', ownerId: 'o' });
      await client.syncAll();
      await client.spaces.create({ name: 'never synced', ownerId: 'o' });
      const report = await client.signOut({ discardUnsynced: true });
      expect(report.discarded).toEqual({ changes: 1, uploads: 0 });
      expect(filesOf(dir, t)).toEqual([]);
      const rows = await example.server.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string }) => r.name)).toEqual(['synced']);
    });

    it('two tenants on one device never mix; signing out of one leaves the other whole', async () => {
      const a = tenant();
      const b = tenant();
      const dir = deviceDir();
      const ca = open(a, dir);
      const cb = open(b, dir);
      await ca.spaces.create({ name: 'of A', ownerId: 'o' });
      await cb.spaces.create({ name: 'of B', ownerId: 'o' });
      await ca.syncAll();
      await cb.syncAll();
      expect((await ca.spaces.list()).map((s) => s.name)).toEqual(['of A']);
      expect((await cb.spaces.list()).map((s) => s.name)).toEqual(['of B']);

      await ca.signOut();
      expect(filesOf(dir, a)).toEqual([]);
      expect(filesOf(dir, b)).toContain(`trackhub_db_${b}.db`);
      expect((await cb.spaces.list()).map((s) => s.name)).toEqual(['of B']);
      await cb.spaces.create({ name: 'B again', ownerId: 'o' });
      await cb.syncAll();
      const bytes = readFileSync(path.join(dir, `trackhub_db_${b}.db`));
      expect(bytes.includes(Buffer.from('of A'))).toBe(false);
      const rows = await example.server.prisma.space.findMany({ where: { tenantId: b } });
      expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(['B again', 'of B']);
      await cb.close();
      closeNodeDatabase(cb.database);
    });
  });
}
