/** SyncWorker on real WatermelonDB against the STUB server, with real (short) timers. */
import { afterEach, describe, expect, it } from 'vitest';

import { SyncWorker, UploadRejectedError } from '../../src/runtime/client/node.js';
import type { Uploader } from '../../src/runtime/client/node.js';
import { AppClient, entities } from './support/app.js';
import { tempDir, TOKEN_A, URL, waitFor } from './support/helpers.js';
import { StubSyncServer } from './support/stub-server.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

function setup(uploader?: Uploader, extra: Record<string, unknown> = {}) {
  const server = new StubSyncServer(entities);
  const tmp = tempDir();
  const client = new AppClient({
    tenantId: 'tenant-a',
    token: TOKEN_A,
    url: URL,
    fetch: server.fetch,
    dbDir: tmp.dir,
    ...(uploader ? { uploader } : {}),
    ...extra,
  });
  stops.push(tmp.cleanup);
  return { server, client };
}

describe('sync worker', () => {
  it('syncs shortly after a local change, and polls', async () => {
    const { server, client } = setup();
    const worker = new SyncWorker(client, { debounceMs: 10, intervalMs: 50 });
    stops.push(() => worker.stop());
    worker.start();
    await client.spaces.create({ name: 'a', ownerId: 'u' });
    await waitFor(() => server.table('tenant-a', 'Space').length === 1);
    await waitFor(async () => (await client.queueSize()) === 0);
    // Polling brings a server-side change without any local trigger.
    server.insert('tenant-a', 'Space', { name: 'from server', kind: 'TEAM', position: 0, ownerId: 'x' });
    await waitFor(async () => (await client.spaces.count()) === 2);
    expect(server.maxInflight).toBe(1);
  });

  it('waits while offline and syncs when the network comes back', async () => {
    const { server, client } = setup();
    const worker = new SyncWorker(client, { debounceMs: 10, intervalMs: 20, online: false });
    stops.push(() => worker.stop());
    worker.start();
    await client.spaces.create({ name: 'a', ownerId: 'u' });
    await new Promise((r) => setTimeout(r, 80));
    expect(server.requests).toHaveLength(0);
    worker.setOnline(true);
    await waitFor(() => server.table('tenant-a', 'Space').length === 1);
  });

  it('backs off exponentially after failures, records them, and recovers', async () => {
    const { server, client } = setup();
    let fail = true;
    server.beforeRequest = () => {
      if (fail) throw new Error('flaky network');
    };
    const errors: number[] = [];
    const worker = new SyncWorker(client, {
      debounceMs: 5,
      intervalMs: 0,
      initialBackoffMs: 20,
      maxBackoffMs: 40,
      onError: (_e, n) => errors.push(n),
    });
    stops.push(() => worker.stop());
    await client.spaces.create({ name: 'a', ownerId: 'u' });
    worker.start();
    await waitFor(() => errors.length >= 3);
    expect(errors.slice(0, 3)).toEqual([1, 2, 3]);
    const op = (await client.queue.all())[0]!;
    expect(op.status).toBe('failed');
    expect(op.attempts).toBeGreaterThanOrEqual(3);
    expect(op.lastError).toMatch(/flaky network/);
    fail = false;
    await waitFor(() => server.table('tenant-a', 'Space').length === 1);
    await waitFor(() => worker.failures === 0);
    expect(await client.queueSize()).toBe(0);
  });

  it('backoff doubles up to the ceiling, with jitter shortening each delay by up to the configured fraction', () => {
    const { client } = setup();
    const values = [0, 0.999, 0.5];
    let i = 0;
    const worker = new SyncWorker(client, {
      initialBackoffMs: 1000,
      maxBackoffMs: 8000,
      jitter: 0.5,
      random: () => values[i++ % values.length]!,
    });
    expect([1, 2, 3, 4, 5, 6].map((n) => worker.backoffFor(n))).toEqual([1000, 1001, 3000, 8000, 4004, 6000]);
    const plain = new SyncWorker(client, { initialBackoffMs: 1000, maxBackoffMs: 8000, jitter: 0 });
    expect([1, 2, 3, 4, 5].map((n) => plain.backoffFor(n))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('uploads a media file added offline, then the record gets the remote URL and syncs', async () => {
    let online = false;
    const uploaded: string[] = [];
    const uploader: Uploader = async (req) => {
      if (!online) throw new Error('upload: offline');
      uploaded.push(req.localPath);
      return `https://cdn.example/${req.entityId}/${req.field}.png`;
    };
    const { server, client } = setup(uploader);
    const space = await client.spaces.create({ name: 'with cover', ownerId: 'u' });
    await expect(client.spaces.attachFile(space.id, 'name', '/tmp/x.png')).rejects.toThrow(/not a @sync.media field/);
    const uploadId = await client.spaces.attachFile(space.id, 'coverUrl', '/tmp/cover.png', { mime: 'image/png' });
    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect((await client.uploads.list())[0]).toMatchObject({
      uploadId,
      status: 'failed',
      attempts: 1,
      lastError: 'upload: offline',
      meta: { mime: 'image/png' },
    });
    expect((await client.spaces.get(space.id))?.coverUrl).toBeNull();

    online = true;
    const worker = new SyncWorker(client, { debounceMs: 5, intervalMs: 0 });
    stops.push(() => worker.stop());
    await worker.syncNow();
    expect(uploaded).toEqual(['/tmp/cover.png']);
    const url = `https://cdn.example/${space.id}/coverUrl.png`;
    expect((await client.spaces.get(space.id))?.coverUrl).toBe(url);
    expect(server.table('tenant-a', 'Space')[0]!.data.coverUrl).toBe(url);
    expect(await client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, uploadsFailed: 1, uploadsRejected: 0, queueSize: 0 });
  });

  it('retries a failed upload only after its backoff (doubling, capped); a rejected one is not retried', async () => {
    let clock = 1_000_000;
    let mode: 'down' | 'up' | 'refuse' = 'down';
    const calls: string[] = [];
    const uploader: Uploader = async (req) => {
      calls.push(req.localPath);
      if (mode === 'down') throw new Error('connection reset');
      if (mode === 'refuse') throw new UploadRejectedError(413, 'FILE_TOO_LARGE', 'upload refused (413 FILE_TOO_LARGE): too big');
      return `https://files.example/${req.uploadId}`;
    };
    const { client } = setup(uploader, { uploadRetry: { initialBackoffMs: 1000, maxBackoffMs: 4000, now: () => clock } });
    expect([0, 1, 2, 3, 4, 5].map((n) => client.uploads.backoffFor(n))).toEqual([0, 1000, 2000, 4000, 4000, 4000]);
    const space = await client.spaces.create({ name: 's', ownerId: 'u' });
    await client.spaces.attachFile(space.id, 'coverUrl', '/tmp/a.png');

    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    clock += 999; // backoff after 1 failure: 1000 ms
    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 0, waiting: 1 });
    clock += 1;
    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    clock += 1999; // after 2 failures: 2000 ms
    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 0, waiting: 1 });
    expect(await client.uploads.process({ force: true })).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect(calls).toHaveLength(3);
    expect(await client.metrics()).toMatchObject({ uploadsPending: 1, uploadsFailed: 3, uploadsRejected: 0 });

    // Refused for good: rejected with the message, no more attempts, not pending.
    mode = 'refuse';
    clock += 10_000;
    await client.uploads.process();
    const [rejected] = await client.uploads.list();
    expect(rejected).toMatchObject({ status: 'rejected', attempts: 4, lastError: 'upload refused (413 FILE_TOO_LARGE): too big' });
    clock += 1_000_000;
    expect(await client.uploads.process()).toEqual({ uploaded: 0, failed: 0, waiting: 0 });
    expect(calls).toHaveLength(4);
    expect(await client.metrics()).toMatchObject({ uploadsPending: 0, uploadsRejected: 1 });
    expect((await client.spaces.get(space.id))?.coverUrl).toBeNull();

    // retry() puts it back; it then goes through.
    mode = 'up';
    await client.uploads.retry(rejected!.uploadId);
    expect(await client.uploads.process()).toEqual({ uploaded: 1, failed: 0, waiting: 0 });
    expect((await client.spaces.get(space.id))?.coverUrl).toBe(`https://files.example/${rejected!.uploadId}`);
    expect(await client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, uploadsRejected: 0 });
  });

  it('a media field never holds a local path: only an http(s) URL is accepted', async () => {
    const { client } = setup();
    await expect(client.spaces.create({ name: 's', ownerId: 'u', coverUrl: '/data/photo.jpg' })).rejects.toThrow(/attachFile/);
    const space = await client.spaces.create({ name: 's', ownerId: 'u', coverUrl: 'https://files.example/a.jpg' });
    for (const bad of ['file:///data/photo.jpg', 'C:\\photos\\a.jpg', 'content://media/1'])
      await expect(client.spaces.update(space.id, { coverUrl: bad })).rejects.toThrow(/attachFile/);
    await client.spaces.update(space.id, { coverUrl: null });
    expect((await client.spaces.get(space.id))?.coverUrl).toBeNull();
  });
});
