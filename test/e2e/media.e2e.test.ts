/**
 * Media uploads end to end (the seed's "media upload" scenario): the generated
 * server over HTTP with its local-disk media storage, real WatermelonDB devices
 * with the runtime's HTTP uploader and SyncWorker. Faults (airplane mode, a body
 * cut midway) come from the injected fetch.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { httpUploader, SyncWorker, uploadsUrl, type UploadFetch } from '../../src/runtime/client/index.js';
import { tenantDirName } from '../../src/runtime/server/index.js';
import { waitFor } from '../client/support/helpers.js';
import { exampleDatabases, switchableFetch, type RunningServer } from '../support/example-server.js';

const MAX_BYTES = 300_000;
const databases = await exampleDatabases('media', { media: { maxBytes: MAX_BYTES } });

/** A "photo": a PNG signature followed by pseudo-random bytes (seeded, so a failure reproduces). */
function photo(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let server: RunningServer;
const dirs: string[] = [];
const clients: OfflineFirstClient[] = [];
const workers: SyncWorker[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A device whose GraphQL and upload traffic share one switchable network. */
function device(tenantId: string, options: { uploadFetch?: UploadFetch } = {}) {
  const net = switchableFetch();
  const token = `dev:${tenantId}:user`;
  const uploadFetch: UploadFetch =
    options.uploadFetch ??
    (async (url, init) => {
      if (!net.online) throw new TypeError('fetch failed (airplane mode)');
      return fetch(url, init);
    });
  const client = createClient({
    tenantId,
    url: server.url,
    token,
    dbDir: tempDir(`trackhub-media-device-${tenantId}-`),
    fetch: net.fetch,
    uploader: httpUploader({ url: uploadsUrl(server.url), token, fetch: uploadFetch }),
  });
  clients.push(client);
  return { client, net, token };
}

/** Data files (not metadata) the server stores for a tenant. */
function storedFiles(tenantId: string): string[] {
  const dir = path.join(server.mediaDir, tenantDirName(tenantId));
  return existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f]{64}$/.test(f)) : [];
}

function inFlightDir(): string {
  return path.join(path.dirname(server.mediaDir), 'uploads-in-flight');
}

function inFlightFiles(): string[] {
  return existsSync(inFlightDir()) ? readdirSync(inFlightDir()) : [];
}

async function get(url: string, token?: string): Promise<{ status: number; type: string | null; bytes: Buffer; json: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // a file
  }
  return { status: res.status, type: res.headers.get('content-type'), bytes, json };
}

async function post(url: string, token: string | undefined, form: FormData | string, type?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (type) headers['content-type'] = type;
  const res = await fetch(url, { method: 'POST', headers, body: form });
  return { status: res.status, json: (await res.json()) as any };
}

function form(bytes: Buffer, type: string, name = 'photo.png'): FormData {
  const f = new FormData();
  f.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  return f;
}

describe.each(databases)('media uploads on $name', ({ start }) => {
  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const c of clients.splice(0)) await c.close();
    await server?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a photo added offline is uploaded when the network returns, the record gets its URL, a second device fetches the same bytes; other tenants get 404', async () => {
    const a = device('media-t1');
    const bytes = photo(200_000, 1);
    const photoPath = path.join(tempDir('trackhub-media-photos-'), 'kitchen.png');
    writeFileSync(photoPath, bytes);

    // Airplane mode: the record and its photo are added locally.
    a.net.online = false;
    const worker = new SyncWorker(a.client, { online: false, debounceMs: 5, intervalMs: 0 });
    workers.push(worker);
    worker.start();
    const space = await a.client.spaces.create({ name: 'Kitchen', ownerId: 'alice' });
    const uploadId = await a.client.spaces.attachCoverUrl(space.id, photoPath);
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBeNull(); // never the local path
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 1, uploadsDone: 0 });

    // Network back: the worker uploads, then syncs.
    a.net.online = true;
    worker.setOnline(true);
    await waitFor(async () => (await server.prisma.space.findFirst({ where: { clientId: space.id } }))?.coverUrl != null, 15_000);
    await waitFor(async () => (await a.client.queueSize()) === 0, 15_000);

    const hash = sha256(bytes);
    const row = await server.prisma.space.findFirst({ where: { clientId: space.id } });
    expect(row.coverUrl).toBe(`${uploadsUrl(server.url)}/${hash}`);
    expect(storedFiles('media-t1')).toEqual([hash]);
    expect(readFileSync(path.join(server.mediaDir, tenantDirName('media-t1'), hash)).equals(bytes)).toBe(true);
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBe(row.coverUrl);
    expect((await a.client.uploads.list())[0]).toMatchObject({ uploadId, status: 'done', remoteUrl: row.coverUrl, attempts: 1 });
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, uploadsFailed: 0, queueSize: 0 });
    // No GraphQL request ever carried the device path.
    expect(a.net.requests.length).toBeGreaterThan(0);
    for (const r of a.net.requests) expect(r.body).not.toContain(photoPath);

    // A second device of the tenant pulls the URL and fetches the exact bytes.
    const b = device('media-t1');
    await b.client.syncAll();
    const onB = (await b.client.spaces.list()).find((s) => s.id === space.id);
    expect(onB?.coverUrl).toBe(row.coverUrl);
    const file = await get(onB!.coverUrl!, b.token);
    expect(file.status).toBe(200);
    expect(file.type).toBe('image/png');
    expect(file.bytes.equals(bytes)).toBe(true);

    // Another tenant cannot fetch it (404, as for a file that does not exist); no token: 401.
    const other = await get(row.coverUrl, 'dev:media-t2:eve');
    expect(other.status).toBe(404);
    expect(other.json).toEqual({ error: { code: 'NOT_FOUND', message: 'No such file' } });
    expect((await get(`${uploadsUrl(server.url)}/${'0'.repeat(64)}`, 'dev:media-t2:eve')).status).toBe(404);
    expect((await get(row.coverUrl)).json.error.code).toBe('UNAUTHENTICATED');
    expect((await get(row.coverUrl)).status).toBe(401);

    // The same bytes again: the same URL, no second file (200, not 201).
    const again = await post(`${uploadsUrl(server.url)}/Space/coverUrl`, a.token, form(bytes, 'image/png', 'copy.png'));
    expect(again).toEqual({ status: 200, json: { url: row.coverUrl, sha256: hash, size: bytes.length, contentType: 'image/png' } });
    expect(storedFiles('media-t1')).toEqual([hash]);
    // The same bytes in another tenant are that tenant's own file.
    const t2 = await post(`${uploadsUrl(server.url)}/Space/coverUrl`, 'dev:media-t2:eve', form(bytes, 'image/png'));
    expect(t2.status).toBe(201);
    expect(storedFiles('media-t2')).toEqual([hash]);
    expect(inFlightFiles()).toEqual([]);
  });

  it('an upload cut off midway fails, stores nothing, and the retry stores exactly one file', async () => {
    let cuts = 0;
    let sentBeforeCut = 0;
    let partialOnServer: number[] = [];
    const CUT_AFTER = 64 * 1024;
    // The first upload's body stream dies after 64 KiB (the connection is cut); later ones go through.
    const cutting: UploadFetch = async (url, init) => {
      if (cuts > 0) return fetch(url, init);
      cuts += 1;
      const request = new Request(url, { method: init.method, headers: init.headers, body: init.body });
      const reader = request.body!.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          if (sentBeforeCut >= CUT_AFTER) {
            await waitFor(() => inFlightFiles().some((f) => statSync(path.join(inFlightDir(), f)).size > 0));
            partialOnServer = inFlightFiles().map((f) => statSync(path.join(inFlightDir(), f)).size);
            controller.error(new Error('connection lost'));
            return;
          }
          const part = value.subarray(0, CUT_AFTER - sentBeforeCut);
          sentBeforeCut += part.length;
          controller.enqueue(part);
        },
      });
      return fetch(url, {
        method: init.method,
        headers: { ...init.headers, 'content-type': request.headers.get('content-type')! },
        body,
        duplex: 'half',
      } as RequestInit);
    };
    const a = device('media-cut', { uploadFetch: cutting });
    const bytes = photo(250_000, 2);
    const photoPath = path.join(tempDir('trackhub-media-photos-'), 'big.jpg');
    writeFileSync(photoPath, bytes);
    const space = await a.client.spaces.create({ name: 'Garage', ownerId: 'bob' });
    await a.client.spaces.attachCoverUrl(space.id, photoPath, { contentType: 'image/jpeg' });
    await a.client.syncAll();

    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect(sentBeforeCut).toBe(CUT_AFTER);
    // The server had started writing the file part when the connection was cut.
    expect(partialOnServer).toHaveLength(1);
    expect(partialOnServer[0]).toBeGreaterThan(0);
    expect(partialOnServer[0]).toBeLessThan(CUT_AFTER);
    const [failed] = await a.client.uploads.list();
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    await waitFor(() => inFlightFiles().length === 0); // the server dropped the partial file
    expect(storedFiles('media-cut')).toEqual([]);
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBeNull();

    // Within the backoff nothing is sent; the worker (back online) retries at once.
    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 0, waiting: 1 });
    const worker = new SyncWorker(a.client, { debounceMs: 5, intervalMs: 0 });
    workers.push(worker);
    await worker.syncNow();
    expect(cuts).toBe(1);
    const hash = sha256(bytes);
    expect(storedFiles('media-cut')).toEqual([hash]);
    expect(readFileSync(path.join(server.mediaDir, tenantDirName('media-cut'), hash)).equals(bytes)).toBe(true);
    const row = await server.prisma.space.findFirst({ where: { clientId: space.id } });
    expect(row.coverUrl).toBe(`${uploadsUrl(server.url)}/${hash}`);
    expect((await get(row.coverUrl, a.token)).type).toBe('image/jpeg');
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, uploadsFailed: 1, uploadsRejected: 0 });
  });

  it('a too-large file and a refused content type get clear errors; the uploads are rejected with the message and not retried', async () => {
    const a = device('media-limits');
    const dir = tempDir('trackhub-media-photos-');
    const big = path.join(dir, 'huge.png');
    writeFileSync(big, photo(MAX_BYTES + 1, 3));
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'not a photo');
    const space = await a.client.spaces.create({ name: 'Attic', ownerId: 'carol' });
    await a.client.spaces.attachCoverUrl(space.id, big);
    await a.client.spaces.attachCoverUrl(space.id, text, { contentType: 'text/plain' });
    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 2, waiting: 0 });
    const [tooLarge, badType] = await a.client.uploads.list();
    expect(tooLarge).toMatchObject({
      status: 'rejected',
      lastError: `upload refused (413 FILE_TOO_LARGE): The file is larger than the limit of ${MAX_BYTES} bytes`,
    });
    expect(badType).toMatchObject({ status: 'rejected' });
    expect(badType!.lastError).toMatch(/^upload refused \(415 UNSUPPORTED_CONTENT_TYPE\): Content type "text\/plain" is not accepted; accepted: image\/jpeg, image\/png/);
    expect(await a.client.uploads.process({ force: true })).toEqual({ uploaded: 0, failed: 0, waiting: 0 });
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 0, uploadsRejected: 2, uploadsFailed: 2 });
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBeNull();
    expect(storedFiles('media-limits')).toEqual([]);

    // The raw endpoint's answers.
    const base = `${uploadsUrl(server.url)}`;
    const token = a.token;
    const png = photo(1000, 4);
    expect(await post(`${base}/Space/coverUrl`, undefined, form(png, 'image/png'))).toMatchObject({
      status: 401,
      json: { error: { code: 'UNAUTHENTICATED' } },
    });
    expect(await post(`${base}/Space/name`, token, form(png, 'image/png'))).toEqual({
      status: 404,
      json: { error: { code: 'UNKNOWN_MEDIA_FIELD', message: 'Space.name is not a @sync.media field' } },
    });
    expect((await post(`${base}/Nope/coverUrl`, token, form(png, 'image/png'))).json.error.code).toBe('UNKNOWN_MEDIA_FIELD');
    expect(await post(`${base}/Space/coverUrl`, token, '{"file":1}', 'application/json')).toMatchObject({
      status: 400,
      json: { error: { code: 'BAD_UPLOAD' } },
    });
    const empty = new FormData();
    empty.append('note', 'no file');
    expect(await post(`${base}/Space/coverUrl`, token, empty)).toEqual({
      status: 400,
      json: { error: { code: 'BAD_UPLOAD', message: 'No file part in the request' } },
    });
    // Far over the limit: refused from Content-Length, before the body is read.
    expect((await post(`${base}/Space/coverUrl`, token, form(photo(2_000_000, 5), 'image/png'))).status).toBe(413);
    expect(storedFiles('media-limits')).toEqual([]);
    expect(inFlightFiles()).toEqual([]);
  });

  it('the server counts every upload of this file by entity and outcome on /metrics (ids never in labels)', async () => {
    const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
    const uploads = Object.fromEntries(
      [...text.matchAll(/^trackhub_media_uploads_total\{entity="([^"]*)",outcome="([^"]*)"\} (\d+)$/gm)].map((m) => [`${m[1]} ${m[2]}`, Number(m[3])]),
    );
    // The tests above: 3 files stored (kitchen, its copy for media-t2, the retried garage photo), 1 same-bytes
    // re-upload, the cut-off upload, and the refusals of the limits test.
    expect(uploads).toEqual({
      'Space stored': 3,
      'Space deduplicated': 1,
      'Space INTERRUPTED': 1,
      'Space FILE_TOO_LARGE': 2,
      'Space UNSUPPORTED_CONTENT_TYPE': 1,
      'Space UNAUTHENTICATED': 1,
      'Space UNKNOWN_MEDIA_FIELD': 1,
      'unknown UNKNOWN_MEDIA_FIELD': 1,
      'Space BAD_UPLOAD': 2,
    });
    const bytes = text.match(/^trackhub_media_upload_bytes_total\{entity="Space"\} (\d+)$/m);
    expect(Number(bytes?.[1])).toBe(200_000 * 2 + 250_000);
  });
});
