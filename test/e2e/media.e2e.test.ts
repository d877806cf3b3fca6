/**
 * Media uploads end to end (the seed's "media upload" scenario): the generated
 * server over HTTP with its local-disk media storage, real WatermelonDB devices
 * with the runtime's HTTP uploader and SyncWorker. Faults (airplane mode, a body
 * cut midway) come from the injected fetch, session expiry from the server's injected clock.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import {
  httpUploader,
  SyncWorker,
  uploadsUrl,
  type HttpUploaderOptions,
  type UploadFetch,
} from '../../src/runtime/client/node.js';
import { tenantDirName } from '../../src/runtime/server/index.js';
import { waitFor } from '../client/support/helpers.js';
import { exampleDatabases, switchableFetch, type RunningServer } from '../support/example-server.js';

const MAX_BYTES = 300_000;
/** Added to the server's clock of upload-session expiry (the expiry test moves it a day ahead). */
let clockSkewMs = 0;
const databases = await exampleDatabases('media', { media: { maxBytes: MAX_BYTES, now: () => Date.now() + clockSkewMs } });
const SESSIONS = 'trackhub-upload-sessions';

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
function device(tenantId: string, options: { uploadFetch?: UploadFetch; uploader?: Partial<HttpUploaderOptions> } = {}) {
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
    uploader: httpUploader({ url: uploadsUrl(server.url), token, fetch: uploadFetch, ...options.uploader }),
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

/** Temp files of one-shot uploads (the sessions' directory aside). */
function inFlightFiles(): string[] {
  return existsSync(inFlightDir()) ? readdirSync(inFlightDir()).filter((f) => f !== SESSIONS) : [];
}

/** Received bytes of unfinished upload sessions (`<id>.part` files). */
function sessionParts(): string[] {
  const dir = path.join(inFlightDir(), SESSIONS);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part')) : [];
}

async function call(
  method: string,
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {},
  body?: Uint8Array | ReadableStream<Uint8Array>,
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: body as BodyInit, duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // HEAD: no body
  }
  return { status: res.status, headers: res.headers, json };
}

const CHUNK = { 'content-type': 'application/offset+octet-stream' };

/**
 * An upload fetch whose first PATCH delivers only `cutAfter` bytes: once the server has
 * them on disk the connection is cut. Records the bytes of every PATCH and the offsets
 * the session status answered.
 */
function cuttingFetch(cutAfter: number, token: string) {
  const log = { patches: [] as number[], statusOffsets: [] as number[], created: 0, cuts: 0 };
  const send: UploadFetch = async (url, init) => {
    if (init.method === 'POST' && url.endsWith('/sessions')) log.created += 1;
    if (init.method === 'PATCH' && log.cuts === 0) {
      log.cuts += 1;
      const data = init.body as Uint8Array;
      log.patches.push(cutAfter);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(data.subarray(0, cutAfter));
        },
        async pull(controller) {
          await waitFor(async () => (await call('GET', url, token)).json?.offset === cutAfter);
          controller.error(new Error('connection lost'));
        },
      });
      return fetch(url, { method: 'PATCH', headers: init.headers, body, duplex: 'half' } as RequestInit);
    }
    if (init.method === 'PATCH') log.patches.push((init.body as Uint8Array).byteLength);
    const res = await fetch(url, init as RequestInit);
    if (init.method === 'GET' && res.ok) log.statusOffsets.push(((await res.clone().json()) as { offset: number }).offset);
    return res;
  };
  return { fetch: send, log };
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

  it('an upload cut off midway resumes: the retry asks the server for its offset and sends only the remaining bytes; exactly one file stored', async () => {
    const CUT_AFTER = 100 * 1024;
    const token = 'dev:media-cut:user';
    const cut = cuttingFetch(CUT_AFTER, token);
    const a = device('media-cut', { uploadFetch: cut.fetch });
    const bytes = photo(290_000, 2); // over the 256 KiB from which the uploader uses a session
    const photoPath = path.join(tempDir('trackhub-media-photos-'), 'big.jpg');
    writeFileSync(photoPath, bytes);
    const space = await a.client.spaces.create({ name: 'Garage', ownerId: 'bob' });
    await a.client.spaces.attachCoverUrl(space.id, photoPath, { contentType: 'image/jpeg' });
    await a.client.syncAll();

    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect(cut.log).toMatchObject({ cuts: 1, created: 1, patches: [CUT_AFTER] });
    // The server kept the bytes that arrived before the cut; nothing is stored yet.
    expect(sessionParts()).toHaveLength(1);
    expect(statSync(path.join(inFlightDir(), SESSIONS, sessionParts()[0]!)).size).toBe(CUT_AFTER);
    const [failed] = await a.client.uploads.list();
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, meta: { contentType: 'image/jpeg' } });
    expect(storedFiles('media-cut')).toEqual([]);
    expect((await a.client.spaces.get(space.id))?.coverUrl).toBeNull();

    // Within the backoff nothing is sent; the worker (back online) retries at once.
    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 0, waiting: 1 });
    const worker = new SyncWorker(a.client, { debounceMs: 5, intervalMs: 0 });
    workers.push(worker);
    await worker.syncNow();
    // The retry asked for the offset and sent only the rest, in the same session.
    expect(cut.log.statusOffsets).toEqual([CUT_AFTER]);
    expect(cut.log.created).toBe(1);
    expect(cut.log.patches.slice(1).reduce((n, b) => n + b, 0)).toBe(bytes.length - CUT_AFTER);
    const hash = sha256(bytes);
    expect(storedFiles('media-cut')).toEqual([hash]);
    expect(readFileSync(path.join(server.mediaDir, tenantDirName('media-cut'), hash)).equals(bytes)).toBe(true);
    expect(sessionParts()).toEqual([]);
    const row = await server.prisma.space.findFirst({ where: { clientId: space.id } });
    expect(row.coverUrl).toBe(`${uploadsUrl(server.url)}/${hash}`);
    expect((await get(row.coverUrl, a.token)).type).toBe('image/jpeg');
    expect((await a.client.uploads.list())[0]).toMatchObject({ status: 'done', attempts: 2, meta: { contentType: 'image/jpeg' } });
    expect(await a.client.metrics()).toMatchObject({ uploadsPending: 0, uploadsDone: 1, uploadsFailed: 1, uploadsRejected: 0 });
  });

  it('an expired session is refused (404) and removed; the client starts a new session and uploads the whole file once', async () => {
    const CUT_AFTER = 64 * 1024;
    const token = 'dev:media-expiry:user';
    const cut = cuttingFetch(CUT_AFTER, token);
    const a = device('media-expiry', { uploadFetch: cut.fetch, uploader: { chunkSize: 128 * 1024 } });
    const bytes = photo(280_000, 6);
    const photoPath = path.join(tempDir('trackhub-media-photos-'), 'porch.png');
    writeFileSync(photoPath, bytes);
    const space = await a.client.spaces.create({ name: 'Porch', ownerId: 'dan' });
    await a.client.spaces.attachCoverUrl(space.id, photoPath);
    expect(await a.client.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    expect(sessionParts()).toHaveLength(1);
    const session = sessionParts()[0]!.replace(/\.part$/, '');
    const sessionUrl = `${uploadsUrl(server.url)}/sessions/${session}`;
    expect((await call('GET', sessionUrl, token)).json).toEqual({ session, offset: CUT_AFTER, length: bytes.length });

    clockSkewMs = 24 * 60 * 60 * 1000 + 1000; // a day later
    try {
      expect(await call('PATCH', sessionUrl, token, { ...CHUNK, 'upload-offset': String(CUT_AFTER) }, bytes.subarray(CUT_AFTER))).toMatchObject({
        status: 404,
        json: { error: { code: 'NOT_FOUND' } },
      });
      expect(sessionParts()).toEqual([]); // removed when met
      expect((await call('GET', sessionUrl, token)).status).toBe(404);

      expect(await a.client.uploads.process({ force: true })).toEqual({ uploaded: 1, failed: 0, waiting: 0 });
      expect(cut.log.created).toBe(2); // a new session
      // All of the file again, in 128 KiB chunks.
      expect(cut.log.patches.slice(1)).toEqual([128 * 1024, 128 * 1024, bytes.length - 256 * 1024]);
      const hash = sha256(bytes);
      expect(storedFiles('media-expiry')).toEqual([hash]);
      expect(readFileSync(path.join(server.mediaDir, tenantDirName('media-expiry'), hash)).equals(bytes)).toBe(true);
      expect((await a.client.spaces.get(space.id))?.coverUrl).toBe(`${uploadsUrl(server.url)}/${hash}`);
    } finally {
      clockSkewMs = 0;
    }
  });

  it('the session routes: offsets, 409 OFFSET_MISMATCH with the offset, other tenants get 404, limits at creation and past Upload-Length', async () => {
    const base = uploadsUrl(server.url);
    const token = 'dev:media-raw:ann';
    const bytes = photo(1000, 7);
    const create = (headers: Record<string, string>, who: string | null = token, field = 'Space/coverUrl') =>
      call('POST', `${base}/${field}/sessions`, who ?? undefined, headers);

    const created = await create({ 'upload-length': '1000', 'content-type': 'image/png' });
    expect(created.status).toBe(201);
    const session = created.json.session as string;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.json).toEqual({ session, offset: 0, length: 1000 });
    const url = `${base}/sessions/${session}`;
    expect(created.headers.get('location')).toBe(url);

    expect(await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '0' }, bytes.subarray(0, 400))).toMatchObject({
      status: 200,
      json: { session, offset: 400, length: 1000 },
    });
    // A chunk sent again from 0 (its answer was lost): 409 with where to go on from.
    const mismatch = await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '0' }, bytes.subarray(0, 400));
    expect(mismatch.status).toBe(409);
    expect(mismatch.json.error).toMatchObject({ code: 'OFFSET_MISMATCH', offset: 400 });
    const head = await call('HEAD', url, token);
    expect([head.status, head.headers.get('upload-offset'), head.headers.get('upload-length')]).toEqual([200, '400', '1000']);

    // Another tenant cannot see or extend the session (404, as for one that does not exist); no token: 401.
    const eve = 'dev:media-raw-2:eve';
    expect((await call('HEAD', url, eve)).status).toBe(404);
    expect(await call('GET', url, eve)).toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND' } } });
    expect((await call('PATCH', url, eve, { ...CHUNK, 'upload-offset': '400' }, bytes.subarray(400))).status).toBe(404);
    expect((await call('GET', `${base}/sessions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, token)).status).toBe(404);
    expect((await call('PATCH', url, undefined, { ...CHUNK, 'upload-offset': '400' }, bytes.subarray(400))).status).toBe(401);
    expect((await call('GET', url, token)).json.offset).toBe(400);

    // Past Upload-Length: refused (from Content-Length, or while streaming a chunked body); the chunk is dropped.
    expect(await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '400' }, photo(700, 8))).toMatchObject({
      status: 413,
      json: { error: { code: 'FILE_TOO_LARGE' } },
    });
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(400, 800));
        controller.enqueue(photo(300, 9));
        controller.close();
      },
    });
    expect((await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '400' }, streamed)).status).toBe(413);
    expect((await call('GET', url, token)).json.offset).toBe(400);
    expect((await call('PATCH', url, token, { 'content-type': 'image/png', 'upload-offset': '400' }, bytes.subarray(400))).status).toBe(400);

    // The last bytes: verified, hashed, stored.
    const hash = sha256(bytes);
    const done = await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '400' }, bytes.subarray(400));
    expect(done).toMatchObject({ status: 201, json: { url: `${base}/${hash}`, sha256: hash, size: 1000, contentType: 'image/png' } });
    expect(storedFiles('media-raw')).toEqual([hash]);
    expect((await get(`${base}/${hash}`, token)).bytes.equals(bytes)).toBe(true);
    // Asked again (the answer was lost): the result; the same bytes in a new session: deduplicated (200).
    expect((await call('GET', url, token)).json).toMatchObject({ offset: 1000, url: `${base}/${hash}` });
    const again = (await create({ 'upload-length': '1000', 'content-type': 'image/png' })).json.session as string;
    expect((await call('PATCH', `${base}/sessions/${again}`, token, { ...CHUNK, 'upload-offset': '0' }, bytes)).status).toBe(200);
    expect(storedFiles('media-raw')).toEqual([hash]);

    // Limits are checked when the session is created.
    expect(await create({ 'upload-length': String(MAX_BYTES + 1), 'content-type': 'image/png' })).toMatchObject({
      status: 413,
      json: { error: { code: 'FILE_TOO_LARGE', message: `The file is larger than the limit of ${MAX_BYTES} bytes` } },
    });
    expect(await create({ 'upload-length': '10', 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      json: { error: { code: 'UNSUPPORTED_CONTENT_TYPE' } },
    });
    expect(await create({ 'content-type': 'image/png' })).toMatchObject({ status: 400, json: { error: { code: 'BAD_UPLOAD' } } });
    expect((await create({ 'upload-length': '10', 'content-type': 'image/png' }, token, 'Space/name')).status).toBe(404);
    expect((await create({ 'upload-length': '10', 'content-type': 'image/png' }, null)).status).toBe(401);
    expect(sessionParts()).toEqual([]);
  });

  it('a PATCH whose connection hangs (half-open link) is ended by the next PATCH of the session, which goes on from the bytes received', async () => {
    const base = uploadsUrl(server.url);
    const token = 'dev:media-hang:user';
    const bytes = photo(2000, 10);
    const created = await call('POST', `${base}/Space/coverUrl/sessions`, token, { 'upload-length': '2000', 'content-type': 'image/png' });
    const url = `${base}/sessions/${created.json.session}`;
    let stall: ReadableStreamDefaultController<Uint8Array> | undefined;
    const hanging = new ReadableStream<Uint8Array>({
      start(controller) {
        stall = controller;
        controller.enqueue(bytes.subarray(0, 700)); // then nothing more, and no end
      },
    });
    const first = call('PATCH', url, token, { ...CHUNK, 'upload-offset': '0' }, hanging).then(
      (r) => r.status,
      () => 'cut',
    );
    await waitFor(async () => (await call('GET', url, token)).json.offset === 700);
    const hash = sha256(bytes);
    expect(await call('PATCH', url, token, { ...CHUNK, 'upload-offset': '700' }, bytes.subarray(700))).toMatchObject({
      status: 201,
      json: { sha256: hash, size: 2000 },
    });
    expect(await first).toBe('cut'); // the server ended the stale request
    stall?.close();
    expect(readFileSync(path.join(server.mediaDir, tenantDirName('media-hang'), hash)).equals(bytes)).toBe(true);
  });

  it('the session id survives an app restart: a new client on the same database resumes the upload', async () => {
    const CUT_AFTER = 128 * 1024;
    const token = 'dev:media-restart:user';
    const cut = cuttingFetch(CUT_AFTER, token);
    const dbDir = tempDir('trackhub-media-device-restart-');
    const open = () =>
      createClient({
        tenantId: 'media-restart',
        url: server.url,
        token,
        dbDir,
        uploader: httpUploader({ url: uploadsUrl(server.url), token, fetch: cut.fetch, chunkSize: 150 * 1024 }),
      });
    const bytes = photo(295_000, 11);
    const photoPath = path.join(tempDir('trackhub-media-photos-'), 'shed.png');
    writeFileSync(photoPath, bytes);
    const first = open();
    const space = await first.spaces.create({ name: 'Shed', ownerId: 'eve' });
    await first.spaces.attachCoverUrl(space.id, photoPath);
    expect(await first.uploads.process()).toEqual({ uploaded: 0, failed: 1, waiting: 0 });
    await first.close();

    const second = open();
    clients.push(second);
    expect(await second.uploads.process({ force: true })).toEqual({ uploaded: 1, failed: 0, waiting: 0 });
    expect(cut.log.created).toBe(1);
    expect(cut.log.statusOffsets).toEqual([CUT_AFTER]);
    // The rest, in 150 KiB chunks from the server's offset.
    expect(cut.log.patches).toEqual([CUT_AFTER, 150 * 1024, bytes.length - CUT_AFTER - 150 * 1024]);
    expect(storedFiles('media-restart')).toEqual([sha256(bytes)]);
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
    // The tests above: 7 files stored (kitchen, its copy for media-t2, the resumed garage photo, the porch photo
    // sent again after its session expired, the raw session's file, the hanging one's, the shed photo resumed after
    // a restart), 2 same-bytes re-uploads (one-shot, session), 4 cut-off chunks (garage, porch, the hanging PATCH
    // ended by the next one, shed), and the refusals of the limits and session-route tests (a PATCH refused for its offset or
    // an unknown session is not an outcome; nor is one without a token, whose entity is not known).
    expect(uploads).toEqual({
      'Space stored': 7,
      'Space deduplicated': 2,
      'Space INTERRUPTED': 4,
      'Space FILE_TOO_LARGE': 5,
      'Space UNSUPPORTED_CONTENT_TYPE': 2,
      'Space UNAUTHENTICATED': 2,
      'Space UNKNOWN_MEDIA_FIELD': 2,
      'unknown UNKNOWN_MEDIA_FIELD': 1,
      'Space BAD_UPLOAD': 4,
    });
    const bytes = text.match(/^trackhub_media_upload_bytes_total\{entity="Space"\} (\d+)$/m);
    expect(Number(bytes?.[1])).toBe(200_000 * 2 + 290_000 + 280_000 + 1000 + 2000 + 295_000);
  });
});
