/**
 * The web pieces of the client runtime that also run in Node, against the real
 * generated server on SQLite: a Blob attached to a media field goes through the
 * resumable upload sliced from the Blob (no file path), and the browser network
 * monitor follows online / offline events (dispatched on a real EventTarget here;
 * test/browser/ covers the real browser).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { httpUploader, memoryBlobStore, uploadsUrl, type UploadFetch } from 'trackhub-gen/runtime/client';
import { browserNetworkMonitor, ownTenantDatabase } from 'trackhub-gen/runtime/client/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { startExampleServer, type RunningServer } from '../support/example-server.js';

describe('web runtime pieces in Node (SQLite server)', () => {
  let server: RunningServer;
  const dirs: string[] = [];
  const clients: OfflineFirstClient[] = [];
  beforeAll(async () => {
    server = await startExampleServer({ provider: 'sqlite' });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a Blob attached to a media field is uploaded in resumable chunks sliced from it, and its URL syncs', async () => {
    const tenant = 'blob-t1';
    const token = `dev:${tenant}:ann`;
    const requests: string[] = [];
    const send: UploadFetch = (url, init) => {
      requests.push(`${init.method} ${new URL(url).pathname.replace(/[^/]{20,}$/, ':id')} ${init.body instanceof Uint8Array ? init.body.byteLength : ''}`.trim());
      return fetch(url, init as RequestInit);
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-blob-'));
    dirs.push(dir);
    const blobs = memoryBlobStore();
    const client = createClient({
      tenantId: tenant,
      url: server.url,
      token,
      dbDir: dir,
      blobStore: blobs,
      uploader: httpUploader({ url: uploadsUrl(server.url), token, fetch: send, resumableFromBytes: 0, chunkSize: 64 * 1024 }),
    });
    clients.push(client);
    const space = await client.spaces.create({ name: 'blob', ownerId: 'ann' });
    const bytes = new Uint8Array(150_000).map((_, i) => (i * 7) % 256);
    const uploadId = await client.spaces.attachCoverUrl(space.id, new Blob([bytes], { type: 'image/png' }));
    expect((await client.uploads.list())[0]).toMatchObject({ uploadId, localPath: `trackhub-blob:${uploadId}/blob`, meta: { contentType: 'image/png' } });
    expect(await blobs.get(uploadId)).not.toBeNull();

    expect(await client.uploads.process()).toMatchObject({ uploaded: 1, failed: 0 });
    expect(requests).toEqual([
      'POST /uploads/Space/coverUrl/sessions',
      'PATCH /uploads/sessions/:id 65536',
      'PATCH /uploads/sessions/:id 65536',
      'PATCH /uploads/sessions/:id 18928',
    ]);
    expect(await blobs.get(uploadId)).toBeNull(); // done: the blob is dropped
    await client.syncAll();
    const row = await server.prisma.space.findFirst({ where: { tenantId: tenant, clientId: space.id } });
    expect(row.coverUrl).toMatch(/\/uploads\/[0-9a-f]{64}$/);
    const res = await fetch(row.coverUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(res.headers.get('content-type')).toContain('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a value that is neither a path nor a Blob, saying what to pass', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-blob-'));
    dirs.push(dir);
    const client = createClient({ tenantId: 'blob-t2', url: server.url, token: 'dev:blob-t2:ann', dbDir: dir });
    clients.push(client);
    const space = await client.spaces.create({ name: 'x', ownerId: 'ann' });
    await expect(client.spaces.attachCoverUrl(space.id, 42 as never)).rejects.toThrow('attach a file path or a Blob / File to Space.coverUrl, not number');
  });

  it('browserNetworkMonitor: starts from navigator.onLine, follows online / offline events, stops listening', () => {
    const events = new EventTarget();
    const seen: boolean[] = [];
    const stop = browserNetworkMonitor({ setOnline: (online) => seen.push(online) }, { events, isOnline: () => false });
    expect(seen).toEqual([false]);
    events.dispatchEvent(new Event('online'));
    events.dispatchEvent(new Event('offline'));
    events.dispatchEvent(new Event('online'));
    expect(seen).toEqual([false, true, false, true]);
    stop();
    events.dispatchEvent(new Event('offline'));
    expect(seen).toEqual([false, true, false, true]);
    expect(() => browserNetworkMonitor({ setOnline: () => {} })).toThrow('no window here');
  });

  it('ownTenantDatabase without the Web Locks API owns the database at once', async () => {
    let waited = false;
    const tab = await ownTenantDatabase('t', { onWaiting: () => (waited = true) });
    expect(waited).toBe(false);
    tab.release();
  });
});
