/** LocalDiskStorage and TrackhubMedia configuration, on a real temp directory. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { EntityRegistry, LocalDiskStorage, TrackhubMedia, devTokenVerifier, tenantDirName } from '../../src/runtime/server/index.js';
import type { EntityDescriptor } from '../../src/runtime/server/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function storage(): LocalDiskStorage {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-media-'));
  dirs.push(dir);
  return new LocalDiskStorage(dir);
}

const HASH = 'a'.repeat(64);
const read = async (body: Readable): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

describe('LocalDiskStorage', () => {
  it('stores per tenant; a second put of the same hash is a no-op; another tenant sees nothing', async () => {
    const s = storage();
    await s.put('t1', { sha256: HASH, size: 5, contentType: 'image/png' }, Readable.from([Buffer.from('hello')]));
    await s.put('t1', { sha256: HASH, size: 5, contentType: 'image/jpeg' }, Readable.from([Buffer.from('hello')]));
    expect(readdirSync(path.join(s.root, 't1')).sort()).toEqual([HASH, `${HASH}.json`]);
    const got = await s.get('t1', HASH);
    expect(got).toMatchObject({ sha256: HASH, size: 5, contentType: 'image/png' });
    expect(await read(got!.body)).toBe('hello');
    expect(await s.exists('t2', HASH)).toBe(false);
    expect(await s.get('t2', HASH)).toBeNull();
    expect(await s.get('t1', '../t1/' + HASH)).toBeNull();
  });

  it('a body that fails midway leaves no file behind', async () => {
    const s = storage();
    const failing = new Readable({
      read() {
        this.push(Buffer.from('part'));
        this.destroy(new Error('cut'));
      },
    });
    await expect(s.put('t1', { sha256: HASH, size: 10, contentType: 'image/png' }, failing)).rejects.toThrow('cut');
    expect(await s.exists('t1', HASH)).toBe(false);
    expect(readdirSync(path.join(s.root, 't1'))).toEqual([]);
  });

  it('maps any tenant id to one safe directory name, injectively', () => {
    expect(tenantDirName('acme')).toBe('acme');
    expect(tenantDirName('..')).toBe('%2E%2E');
    expect(tenantDirName('a/b')).toBe('a%2Fb');
    expect(tenantDirName('a%2Fb')).toBe('a%252Fb');
    expect(new Set(['.', '%2E', 'a.b', 'a%2Eb'].map(tenantDirName)).size).toBe(4);
  });
});

describe('TrackhubMedia options', () => {
  const space: EntityDescriptor = {
    name: 'Space',
    delegate: 'space',
    table: 'spaces',
    tenantField: 'tenantId',
    conflict: 'timestamp',
    tombstone: 'deletedAt',
    tombstoneField: 'deletedAt',
    serverFields: [],
    fields: [
      { name: 'name', kind: 'String', optional: false, hasDefault: false, access: 'synced' },
      { name: 'coverUrl', kind: 'String', optional: true, hasDefault: false, access: 'media' },
    ],
  };
  const core = { registry: new EntityRegistry([space]), verifyToken: devTokenVerifier };

  it('per-field limits override the defaults; a key naming no media field fails at startup', () => {
    const media = new TrackhubMedia(core, {
      storage: storage(),
      maxBytes: 1000,
      fields: { 'Space.coverUrl': { contentTypes: ['image/*', 'application/pdf'] } },
    });
    expect(media.limitsFor('Space', 'coverUrl')).toEqual({ maxBytes: 1000, contentTypes: ['image/*', 'application/pdf'] });
    expect(() => new TrackhubMedia(core, { storage: storage(), fields: { 'Space.name': { maxBytes: 1 } } })).toThrow(
      'media.fields["Space.name"]: Space.name is not a @sync.media field',
    );
    expect(() => new TrackhubMedia(core, { storage: storage(), maxBytes: 0 })).toThrow(/maxBytes/);
  });
});
