/**
 * Media through any replica: two replicas of the generated server on one
 * PostgreSQL database share an S3-compatible store (s3rver, started here on
 * loopback) for files AND resumable upload sessions. An upload started on A is
 * resumed and fetched through B; a real device behind a round-robin balancer whose
 * upload is cut midway on one replica resumes it through the other.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { httpUploader, uploadsUrl, type UploadFetch } from '../../src/runtime/client/index.js';
import { s3Media } from '../../src/runtime/server/s3.js';
import { tenantDirName } from '../../src/runtime/server/index.js';
import { waitFor } from '../client/support/helpers.js';
import { postgresAvailability } from '../support/postgres.js';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';
import { startLocalS3, type LocalS3 } from '../support/s3.js';

const pg = await postgresAvailability();
if (pg.url === null) console.warn(`[media replicas e2e] SKIPPED: ${pg.reason}`);

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

async function call(method: string, url: string, token: string, headers: Record<string, string> = {}, body?: Uint8Array) {
  const res = await fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, ...(body ? { body: body as BodyInit } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // a file, or HEAD
  }
  return { status: res.status, headers: res.headers, json, bytes };
}

describe.skipIf(pg.url === null)('media through two replicas on S3-compatible storage', () => {
  let s3: LocalS3;
  let set: ReplicaSet;
  const dirs: string[] = [];
  const clients: OfflineFirstClient[] = [];
  beforeAll(async () => {
    s3 = await startLocalS3();
    set = await startReplicas('media_replicas', 2, {
      media: () => ({ ...s3Media({ client: s3.client, bucket: s3.bucket }), maxBytes: 2_000_000 }),
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await set?.stop();
    await s3?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const origin = (i: number) => set.replicas[i]!.origin;

  it('a session created and half sent through A is continued and fetched through B (and A); the file is one object in the bucket', async () => {
    const token = 'dev:s3-raw:u';
    const bytes = photo(300_000, 7);
    const created = await call('POST', `${origin(0)}/uploads/Space/coverUrl/sessions`, token, {
      'upload-length': String(bytes.length),
      'content-type': 'image/png',
    });
    expect(created.status).toBe(201);
    const id = created.json.session as string;
    const CHUNK = { 'content-type': 'application/offset+octet-stream' };

    const first = await call('PATCH', `${origin(0)}/uploads/sessions/${id}`, token, { ...CHUNK, 'upload-offset': '0' }, bytes.subarray(0, 120_000));
    expect(first.json).toMatchObject({ offset: 120_000, length: bytes.length });
    // B knows the session and its offset.
    const status = await call('HEAD', `${origin(1)}/uploads/sessions/${id}`, token);
    expect(status.headers.get('upload-offset')).toBe('120000');
    // Another tenant does not.
    expect((await call('HEAD', `${origin(1)}/uploads/sessions/${id}`, 'dev:other:u')).status).toBe(404);
    // A stale offset through B: 409 with the offset to continue from.
    const stale = await call('PATCH', `${origin(1)}/uploads/sessions/${id}`, token, { ...CHUNK, 'upload-offset': '0' }, bytes.subarray(0, 10));
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ code: 'OFFSET_MISMATCH', offset: 120_000 });

    const rest = await call('PATCH', `${origin(1)}/uploads/sessions/${id}`, token, { ...CHUNK, 'upload-offset': '120000' }, bytes.subarray(120_000));
    expect(rest.status).toBe(201);
    expect(rest.json).toMatchObject({ sha256: sha256(bytes), size: bytes.length, contentType: 'image/png' });

    for (const i of [0, 1]) {
      const got = await call('GET', `${origin(i)}/uploads/${sha256(bytes)}`, token);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('image/png');
      expect(got.bytes.equals(bytes)).toBe(true);
      expect((await call('GET', `${origin(i)}/uploads/${sha256(bytes)}`, 'dev:other:u')).status).toBe(404);
    }
    // The completed session answers again through either replica; its parts are gone.
    expect((await call('GET', `${origin(0)}/uploads/sessions/${id}`, token)).json).toMatchObject({ offset: bytes.length, sha256: sha256(bytes) });
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `trackhub/media/${tenantDirName('s3-raw')}/${sha256(bytes)}` }),
    );
    expect(head.ContentLength).toBe(bytes.length);
    const parts = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `trackhub/sessions/${id}/` }));
    expect(parts.Contents ?? []).toEqual([]);

    // The same bytes again through B (one-shot POST): deduplicated, no second object.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'again.png');
    const again = await fetch(`${origin(1)}/uploads/Space/coverUrl`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(again.status).toBe(200);
  });

  it('a device upload behind a round-robin balancer, cut midway on one replica, resumes from the offset the other reports; the file is served by both', async () => {
    const tenant = 's3-device';
    const token = `dev:${tenant}:u`;
    const CUT_AFTER = 100 * 1024;
    const log = { patches: [] as Array<{ replica: number; bytes: number }>, cut: false, urls: [] as string[] };
    let requestNo = 0;
    /** The load balancer: request n goes to replica n % 2; the first PATCH is cut after CUT_AFTER bytes. */
    const routed: UploadFetch = async (url, init) => {
      const replica = requestNo++ % 2;
      const target = url.replace(/^http:\/\/127\.0\.0\.1:\d+/, origin(replica));
      log.urls.push(url);
      if (init.method === 'PATCH' && !log.cut) {
        log.cut = true;
        log.patches.push({ replica, bytes: CUT_AFTER });
        const data = init.body as Uint8Array;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(data.subarray(0, CUT_AFTER));
          },
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 300)); // the bytes reach the server, then the link dies
            controller.error(new Error('connection lost'));
          },
        });
        return fetch(target, { method: 'PATCH', headers: init.headers, body, duplex: 'half' } as RequestInit);
      }
      if (init.method === 'PATCH') log.patches.push({ replica, bytes: (init.body as Uint8Array).byteLength });
      return fetch(target, init as RequestInit);
    };
    const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-s3-device-'));
    dirs.push(dbDir);
    const graphql = set.replicas[0]!.url;
    const a = createClient({
      tenantId: tenant,
      url: graphql,
      token,
      dbDir,
      uploader: httpUploader({ url: uploadsUrl(graphql), token, fetch: routed, chunkSize: 128 * 1024 }),
    });
    clients.push(a);
    const bytes = photo(400_000, 11);
    const file = path.join(dbDir, 'big.png');
    writeFileSync(file, bytes);
    const space = await a.spaces.create({ name: 'Attic', ownerId: 'o' });
    await a.spaces.attachCoverUrl(space.id, file, { contentType: 'image/png' });
    await a.syncAll();

    expect(await a.uploads.process()).toMatchObject({ uploaded: 0, failed: 1 });
    const [failed] = await a.uploads.list();
    const session = /\/uploads\/sessions\/([0-9a-f-]+)/.exec(log.urls.find((u) => u.includes('/sessions/')) ?? '')?.[1];
    expect(session).toBeTruthy();
    // The cut bytes were kept in the bucket: the replica the cut PATCH never touched reports them.
    const other = 1 - log.patches[0]!.replica;
    await waitFor(async () => (await call('HEAD', `${origin(other)}/uploads/sessions/${session}`, token)).headers.get('upload-offset') === String(CUT_AFTER));

    await a.uploads.retry(failed!.uploadId);
    expect(await a.uploads.process()).toMatchObject({ uploaded: 1, failed: 0 });
    const sent = log.patches.slice(1);
    expect(sent.reduce((n, p) => n + p.bytes, 0)).toBe(bytes.length - CUT_AFTER); // only the rest
    expect(new Set(sent.map((p) => p.replica)).size).toBe(2); // the chunks went through both replicas
    await a.syncAll();

    const row = await set.replicas[1]!.prisma.space.findFirst({ where: { clientId: space.id } });
    expect(row.coverUrl).toMatch(new RegExp(`/uploads/${sha256(bytes)}$`));
    for (const i of [0, 1]) expect((await call('GET', `${origin(i)}/uploads/${sha256(bytes)}`, token)).bytes.equals(bytes)).toBe(true);
  });
});
