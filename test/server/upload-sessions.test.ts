/** UploadSessionStore (resumable uploads' sessions) on a real temp directory, with an injected clock. */
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { UploadSessionStore } from '../../src/runtime/server/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const HOUR = 60 * 60 * 1000;

function store(ttlMs = 24 * HOUR) {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-sessions-'));
  dirs.push(dir);
  const clock = { now: 1_000_000 };
  return { clock, dir, sessions: new UploadSessionStore(path.join(dir, 'sessions'), ttlMs, () => clock.now) };
}

const init = { tenantId: 't1', entity: 'Space', field: 'coverUrl', length: 10, contentType: 'image/png' };

describe('UploadSessionStore', () => {
  it('creates random-id sessions visible to their tenant only; the offset is the bytes on disk', async () => {
    const { sessions } = store();
    const a = await sessions.create(init);
    const b = await sessions.create(init);
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ ...init, createdAt: 1_000_000, expiresAt: 1_000_000 + 24 * HOUR });
    expect(await sessions.get('t1', a.id)).toEqual(a);
    expect(await sessions.get('t2', a.id)).toBeNull();
    expect(await sessions.get('t1', '../sessions/' + a.id)).toBeNull();
    expect(await sessions.get('t1', '00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await sessions.offset(a)).toBe(0);
    appendFileSync(sessions.partPath(a.id), Buffer.from('hello'));
    expect(await sessions.offset(a)).toBe(5);
    await sessions.truncate(a.id, 2);
    expect(await sessions.offset(a)).toBe(2);
    expect(() => sessions.partPath('x/../../etc')).toThrow(/not an upload session id/);
  });

  it('a completed session answers its result and full offset, without its bytes', async () => {
    const { sessions } = store();
    const s = await sessions.create(init);
    appendFileSync(sessions.partPath(s.id), Buffer.alloc(10));
    const result = { url: 'http://h/uploads/x', sha256: 'x', size: 10, contentType: 'image/png' };
    await sessions.complete(s, result);
    const done = await sessions.get('t1', s.id);
    expect(done?.result).toEqual(result);
    expect(await sessions.offset(done!)).toBe(10);
    expect(readdirSync(sessions.directory)).toEqual([`${s.id}.json`]);
  });

  it('an expired session is gone when met; a sweep (at most once a minute on create) removes the other expired ones', async () => {
    const { clock, sessions } = store(HOUR);
    const old = await sessions.create(init);
    const older = await sessions.create(init);
    clock.now += 30 * 60 * 1000;
    const young = await sessions.create(init); // the sweep ran less than a minute ago: skipped
    // A .part left without metadata (a crash inside create), old enough to go.
    writeFileSync(path.join(sessions.directory, '11111111-1111-4111-8111-111111111111.part'), 'x');
    clock.now += 31 * 60 * 1000; // old and older expired, young not
    expect(await sessions.get('t1', old.id)).toBeNull();
    expect(readdirSync(sessions.directory).filter((f) => f.startsWith(old.id))).toEqual([]);
    expect(await sessions.sweep(true)).toBe(1); // older (the orphan .part is not an hour old by its mtime)
    expect(await sessions.get('t1', older.id)).toBeNull();
    expect(await sessions.get('t1', young.id)).toMatchObject({ id: young.id });
    expect(readdirSync(sessions.directory).sort()).toEqual(
      ['11111111-1111-4111-8111-111111111111.part', `${young.id}.json`, `${young.id}.part`].sort(),
    );
    expect(() => new UploadSessionStore(sessions.directory, 0)).toThrow(/positive/);
  });
});
