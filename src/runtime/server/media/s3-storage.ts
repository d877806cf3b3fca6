/**
 * Media in S3-compatible object storage (AWS S3, MinIO, R2, ...), for servers
 * run as several replicas: every replica stores and serves the same files and
 * continues the same resumable upload sessions.
 *
 * Imported only through `trackhub-gen/runtime/server/s3` (needs the optional
 * peer dependency `@aws-sdk/client-s3`); the main server entry never loads it.
 *
 * Layout under `prefix` (default `trackhub/`):
 *   media/<tenant>/<sha256>             the file (Content-Type set; PutObject is atomic)
 *   sessions/<id>.json                  a resumable session (tenant, field, length, type, expiry, result)
 *   sessions/<id>/<offset, 15 digits>   the bytes one PATCH received, starting at that offset
 *
 * A session's offset is found by walking its parts from 0: the part starting at
 * the current offset extends it, anything else is ignored. Every part holds bytes
 * of the same file at its offset, so two replicas writing the same part (a
 * half-open PATCH on one, its retry on another) agree on the bytes. Expired
 * sessions are removed when met; give the bucket a lifecycle rule on
 * `<prefix>sessions/` (e.g. 2 days) for sessions nobody comes back to.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

import type { MediaOptions } from './http.js';
import {
  DEFAULT_UPLOAD_SESSION_TTL_MS,
  receiveChunk,
  type AppendOutcome,
  type ChunkSource,
  type UploadSession,
  type UploadSessionBackend,
  type UploadSessionResult,
} from './sessions.js';
import { tenantDirName, type MediaInfo, type MediaStorage, type StoredMedia } from './storage.js';

export interface S3MediaOptions {
  /** Your S3Client (region, endpoint, credentials; `forcePathStyle` for most S3-compatible servers). */
  client: S3Client;
  bucket: string;
  /** Key prefix of everything trackhub stores (default `trackhub/`). */
  prefix?: string;
  /** Lifetime of a resumable upload session (default 24 h). */
  sessionTtlMs?: number;
  /** Local directory for the bytes of a PATCH in flight and for assembling a finished upload (default: the OS temp directory). */
  tempDirectory?: string;
  /** Clock of session expiry (default Date.now). */
  now?: () => number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** `{ storage, sessions }` for `media: { ...s3Media({ client, bucket }), maxBytes, ... }`. */
export function s3Media(options: S3MediaOptions): Required<Pick<MediaOptions, 'storage' | 'sessions'>> {
  return { storage: new S3MediaStorage(options), sessions: new S3UploadSessionStore(options) };
}

/** Content-addressed, tenant-scoped files in a bucket (see the file header). */
export class S3MediaStorage implements MediaStorage {
  private readonly prefix: string;

  constructor(private readonly options: S3MediaOptions) {
    this.prefix = options.prefix ?? 'trackhub/';
  }

  /** Object key of a tenant's file. */
  key(tenantId: string, sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return `${this.prefix}media/${tenantDirName(tenantId)}/${sha256}`;
  }

  async exists(tenantId: string, sha256: string): Promise<boolean> {
    try {
      await this.options.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(tenantId, sha256) }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async put(tenantId: string, info: MediaInfo, body: Readable): Promise<void> {
    if (await this.exists(tenantId, info.sha256)) {
      body.resume();
      return;
    }
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(tenantId, info.sha256),
        Body: body,
        ContentLength: info.size,
        ContentType: info.contentType,
      }),
    );
  }

  async get(tenantId: string, sha256: string): Promise<StoredMedia | null> {
    if (!SHA256.test(sha256)) return null;
    try {
      const res = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(tenantId, sha256) }));
      return {
        sha256,
        size: res.ContentLength ?? 0,
        contentType: res.ContentType ?? 'application/octet-stream',
        body: res.Body as Readable,
      };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

/** Resumable upload sessions in the bucket: any replica continues any session (see the file header). */
export class S3UploadSessionStore implements UploadSessionBackend {
  readonly ttlMs: number;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(private readonly options: S3MediaOptions) {
    this.prefix = `${options.prefix ?? 'trackhub/'}sessions/`;
    this.ttlMs = options.sessionTtlMs ?? DEFAULT_UPLOAD_SESSION_TTL_MS;
    this.now = options.now ?? Date.now;
    if (!Number.isFinite(this.ttlMs) || this.ttlMs <= 0) throw new Error('S3UploadSessionStore: the session lifetime must be positive');
  }

  private metaKey(id: string): string {
    return `${this.prefix}${id}.json`;
  }

  private partKey(id: string, offset: number): string {
    return `${this.prefix}${id}/${String(offset).padStart(15, '0')}`;
  }

  private async putMeta(session: UploadSession): Promise<void> {
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.metaKey(session.id),
        Body: JSON.stringify(session),
        ContentType: 'application/json',
      }),
    );
  }

  async create(init: Pick<UploadSession, 'tenantId' | 'entity' | 'field' | 'length' | 'contentType'>): Promise<UploadSession> {
    const createdAt = this.now();
    const session: UploadSession = { id: randomUUID(), ...init, createdAt, expiresAt: createdAt + this.ttlMs };
    await this.putMeta(session);
    return session;
  }

  async get(tenantId: string, id: string): Promise<UploadSession | null> {
    if (!UUID.test(id)) return null;
    let session: UploadSession;
    try {
      const res = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.metaKey(id) }));
      session = JSON.parse(await res.Body!.transformToString('utf8')) as UploadSession;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (this.now() >= session.expiresAt) {
      await this.remove(id);
      return null;
    }
    return session.tenantId === tenantId ? session : null;
  }

  /** The contiguous parts from offset 0: [start, size] each. */
  private async parts(id: string): Promise<Array<{ key: string; start: number; size: number }>> {
    const found = new Map<number, { key: string; size: number }>();
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${this.prefix}${id}/`, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const start = Number(object.Key!.slice(object.Key!.lastIndexOf('/') + 1));
        if (Number.isSafeInteger(start) && (object.Size ?? 0) > 0) found.set(start, { key: object.Key!, size: object.Size! });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const chain: Array<{ key: string; start: number; size: number }> = [];
    for (let at = 0, part = found.get(0); part; part = found.get(at)) {
      chain.push({ ...part, start: at });
      at += part.size;
    }
    return chain;
  }

  async offset(session: UploadSession): Promise<number> {
    if (session.result) return session.length;
    return (await this.parts(session.id)).reduce((n, p) => n + p.size, 0);
  }

  async append(session: UploadSession, offset: number, body: ChunkSource): Promise<AppendOutcome> {
    const dir = await mkdtemp(path.join(this.options.tempDirectory ?? tmpdir(), 'trackhub-s3-part-'));
    try {
      const file = path.join(dir, 'part');
      const out = createWriteStream(file);
      const closed = new Promise<void>((resolve) => out.once('close', resolve));
      let outcome: AppendOutcome;
      try {
        ({ outcome } = await receiveChunk(body, out, offset, session.length));
      } finally {
        out.end();
        await closed;
      }
      if (outcome === 'overflow') return outcome;
      // What arrived (even before a cut) becomes the part at `offset`.
      const size = (await stat(file)).size;
      if (size > 0) {
        await this.options.client.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: this.partKey(session.id, offset),
            Body: createReadStream(file),
            ContentLength: size,
          }),
        );
      }
      return outcome;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async open(session: UploadSession): Promise<{ file: string; release(): Promise<void> }> {
    const dir = await mkdtemp(path.join(this.options.tempDirectory ?? tmpdir(), 'trackhub-s3-upload-'));
    const file = path.join(dir, 'file');
    const release = () => rm(dir, { recursive: true, force: true });
    try {
      const out = createWriteStream(file);
      const parts = await this.parts(session.id);
      await pipeline(
        Readable.from(
          (async function* (client, bucket) {
            for (const part of parts) {
              const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: part.key }));
              for await (const chunk of res.Body as Readable) yield chunk as Buffer;
            }
          })(this.options.client, this.options.bucket),
        ),
        out,
      );
      return { file, release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  async complete(session: UploadSession, result: UploadSessionResult): Promise<UploadSession> {
    const done = { ...session, result };
    await this.putMeta(done);
    await this.deleteParts(session.id);
    return done;
  }

  async remove(id: string): Promise<void> {
    await this.deleteParts(id);
    await this.options.client.send(
      new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: [{ Key: this.metaKey(id) }] } }),
    );
  }

  private async deleteParts(id: string): Promise<void> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${this.prefix}${id}/`, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) keys.push(object.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    for (let i = 0; i < keys.length; i += 1000) {
      await this.options.client.send(
        new DeleteObjectsCommand({
          Bucket: this.options.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
        }),
      );
    }
  }
}
