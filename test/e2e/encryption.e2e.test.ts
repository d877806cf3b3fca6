/**
 * Encryption at rest, end to end: real WatermelonDB tenant databases in
 * SQLCipher format (better-sqlite3-multiple-ciphers) syncing with the
 * generated server over HTTP (SQLite, and PostgreSQL when available).
 *
 * - the file is unreadable without the key: plain SQLite refuses it and no
 *   field value appears in its bytes; with the key it opens and syncs;
 * - a wrong or missing key is a clear error that leaves the file byte for byte;
 * - rotating the key keeps every row and queued change, and a rotation cut off
 *   between re-keying and storing the key is finished on the next open;
 * - a plain database is encrypted in place without loss;
 * - sign-out deletes the key with the database.
 * The only fake is a key store that fails once, on purpose.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import {
  EncryptionKeyError,
  fileKeyStore,
  keyNames,
  newEncryptionKey,
  prepareEncryption,
  type KeyStore,
} from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { databaseVariants, useExampleServer } from '../support/example-server.js';

const require = createRequire(import.meta.url);
const PlainSqlite = require('better-sqlite3') as new (file: string, options?: { fileMustExist?: boolean }) => {
  prepare(sql: string): { all(): unknown[] };
  close(): void;
};

const variants = await databaseVariants('encryption e2e');

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const plainRefuses = (file: string) => {
  const db = new PlainSqlite(file, { fileMustExist: true });
  try {
    db.prepare('SELECT name FROM sqlite_master').all();
    return false;
  } catch (error) {
    return /file is not a database|encrypted/.test(String(error));
  } finally {
    db.close();
  }
};

for (const variant of variants) {
  describe(`encrypted tenant databases against ${variant.name}`, () => {
    const example = useExampleServer(variant.provider, 'encryption', { beforeAll, afterAll });
    const root = mkdtempSync(path.join(tmpdir(), 'trackhub-encryption-'));
    let n = 0;
    const tenant = () => `enc${process.pid}x${++n}`;
    afterAll(() => {
      rmSync(root, { recursive: true, force: true });
    });

    const place = () => {
      const dir = mkdtempSync(path.join(root, 'device-'));
      return { dbDir: path.join(dir, 'db'), keys: fileKeyStore(path.join(dir, 'keys')) };
    };
    const open = async (t: string, dbDir: string, keyStore: KeyStore): Promise<OfflineFirstClient> =>
      createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:u`, dbDir, encryption: await prepareEncryption({ keyStore, tenantId: t, dbDir }) });
    const shut = async (client: OfflineFirstClient) => {
      await client.close();
      closeNodeDatabase(client.database);
    };
    const fileOf = (dbDir: string, t: string) => path.join(dbDir, `trackhub_db_${t}.db`);

    it('the file is unreadable without the key (plain SQLite refuses it, no value in its bytes); with it, it opens and syncs', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      const client = await open(t, dbDir, keys);
      await client.spaces.create({ name: 'Zanzibar-vault-7731', ownerId: 'owner-secret-4242' });
      await client.syncAll();
      await shut(client);

      const file = fileOf(dbDir, t);
      const bytes = readFileSync(file);
      expect(bytes.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
      for (const value of ['Zanzibar-vault-7731', 'owner-secret-4242', 'operation_queue', 'spaces']) {
        expect(bytes.includes(Buffer.from(value)), value).toBe(false);
      }
      expect(plainRefuses(file)).toBe(true);

      const again = await open(t, dbDir, keys);
      expect((await again.spaces.list()).map((s) => s.name)).toEqual(['Zanzibar-vault-7731']);
      await again.spaces.create({ name: 'second', ownerId: 'o' });
      await again.syncAll();
      const rows = await example.server.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(['Zanzibar-vault-7731', 'second']);
      await shut(again);
    });

    it('a wrong or missing key is a clear error, and the file is left byte for byte', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      const client = await open(t, dbDir, keys);
      await client.spaces.create({ name: 'keep me', ownerId: 'o' });
      await shut(client);
      const file = fileOf(dbDir, t);
      const before = sha(file);

      const wrong = fileKeyStore(path.join(root, `wrong-${t}`));
      await wrong.set(keyNames(t).current, newEncryptionKey());
      await expect(prepareEncryption({ keyStore: wrong, tenantId: t, dbDir })).rejects.toThrow(EncryptionKeyError);
      await expect(prepareEncryption({ keyStore: wrong, tenantId: t, dbDir })).rejects.toThrow(/cannot be opened with the key.*Nothing was changed/);
      const empty = fileKeyStore(path.join(root, `empty-${t}`));
      await expect(prepareEncryption({ keyStore: empty, tenantId: t, dbDir })).rejects.toThrow(/has no key for tenant.*Nothing was changed/);
      expect(() =>
        createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:u`, dbDir, encryption: { keyStore: wrong, key: newEncryptionKey() } }),
      ).toThrow(/wrong key/);
      expect(sha(file)).toBe(before);
      expect(await empty.get(keyNames(t).current)).toBeNull(); // no key was invented for an existing file

      const right = await open(t, dbDir, keys);
      expect((await right.spaces.list()).map((s) => s.name)).toEqual(['keep me']);
      await shut(right);
    });

    it('rotating the key keeps every row and queued change; the old key no longer opens the file', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      const client = await open(t, dbDir, keys);
      await client.spaces.create({ name: 'synced', ownerId: 'o' });
      await client.syncAll();
      const queued = await client.spaces.create({ name: 'queued', ownerId: 'o' });
      await client.spaces.update(queued.id, { description: 'edited offline' });
      const oldKey = (await keys.get(keyNames(t).current))!;
      await client.rotateEncryptionKey();
      const newKey = (await keys.get(keyNames(t).current))!;
      expect(newKey).not.toBe(oldKey);
      expect(await keys.get(keyNames(t).next)).toBeNull();
      expect(await client.queueSize()).toBe(1);
      await shut(client);

      const stale = fileKeyStore(path.join(root, `stale-${t}`));
      await stale.set(keyNames(t).current, oldKey);
      await expect(prepareEncryption({ keyStore: stale, tenantId: t, dbDir })).rejects.toThrow(EncryptionKeyError);

      const again = await open(t, dbDir, keys);
      expect((await again.spaces.list()).map((s) => s.name).sort()).toEqual(['queued', 'synced']);
      expect(await again.queueSize()).toBe(1);
      await again.syncAll();
      const rows = await example.server.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string; description: string | null }) => [r.name, r.description]).sort()).toEqual([
        ['queued', 'edited offline'],
        ['synced', null],
      ]);
      await shut(again);
    });

    it('a rotation cut off after re-keying (the new key not yet stored as current) is finished on the next open', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      let failOnce = false;
      const flaky: KeyStore = {
        get: (name) => keys.get(name),
        delete: (name) => keys.delete(name),
        set: async (name, key) => {
          if (failOnce && name === keyNames(t).current) {
            failOnce = false;
            throw new Error('app killed');
          }
          await keys.set(name, key);
        },
      };
      const client = await open(t, dbDir, flaky);
      await client.spaces.create({ name: 'survives', ownerId: 'o' });
      failOnce = true;
      await expect(client.rotateEncryptionKey()).rejects.toThrow(/app killed/);
      await shut(client);
      expect(await keys.get(keyNames(t).next)).not.toBeNull();

      const again = await open(t, dbDir, keys);
      expect((await again.spaces.list()).map((s) => s.name)).toEqual(['survives']);
      expect(await keys.get(keyNames(t).next)).toBeNull();
      await shut(again);
    });

    it('an existing plain database is encrypted in place without losing a row or a queued change', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      const plain = createClient({ tenantId: t, url: example.server.url, token: `dev:${t}:u`, dbDir });
      await plain.spaces.create({ name: 'pulled before', ownerId: 'o' });
      await plain.syncAll();
      await plain.spaces.create({ name: 'waiting', ownerId: 'o' });
      await shut(plain);
      const file = fileOf(dbDir, t);
      expect(plainRefuses(file)).toBe(false);

      const client = await open(t, dbDir, keys);
      expect(plainRefuses(file)).toBe(true);
      expect(readFileSync(file).includes(Buffer.from('pulled before'))).toBe(false);
      expect((await client.spaces.list()).map((s) => s.name).sort()).toEqual(['pulled before', 'waiting']);
      expect(await client.queueSize()).toBe(1);
      await client.syncAll();
      expect((await example.server.prisma.space.findMany({ where: { tenantId: t } })).length).toBe(2);
      await shut(client);
    });

    it('sign-out deletes the database and the key', async () => {
      const t = tenant();
      const { dbDir, keys } = place();
      const client = await open(t, dbDir, keys);
      await client.spaces.create({ name: 'bye', ownerId: 'o' });
      await client.syncAll();
      await client.signOut();
      expect(readdirSync(dbDir).filter((f) => f.includes(t))).toEqual([]);
      expect(await keys.get(keyNames(t).current)).toBeNull();
      expect(existsSync(fileOf(dbDir, t))).toBe(false);
    });
  });
}
