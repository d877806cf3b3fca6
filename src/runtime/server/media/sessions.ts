/**
 * Where resumable upload sessions live (see resumable.ts): `UploadSessionBackend`
 * is what the routes need; `UploadSessionStore` keeps them on local disk (one
 * server process, or a directory every replica shares), and the S3 entry
 * (`s3.ts`) keeps them in the bucket so any replica can continue them.
 *
 * On local disk each session is
 * `<directory>/<id>.json` (tenant, media field, declared length and type, expiry,
 * and once complete its result) plus `<id>.part`, the bytes received so far.
 * The offset is the size of the `.part` file, so bytes that reached the disk
 * before a connection was cut are kept. Ids are random UUIDs; a session is only
 * ever visible to its own tenant. Expired sessions are removed lazily (when met,
 * and by a sweep at most once a minute when a session is created).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface UploadSessionResult {
  url: string;
  sha256: string;
  size: number;
  contentType: string;
}

export interface UploadSession {
  id: string;
  tenantId: string;
  entity: string;
  field: string;
  /** Declared size of the whole file (`Upload-Length`). */
  length: number;
  contentType: string;
  createdAt: number;
  expiresAt: number;
  /** Set once the file is stored: a later status query answers it again. */
  result?: UploadSessionResult;
}

/** The bytes of a PATCH: the request (iterable; `complete` false when it was cut). */
export type ChunkSource = AsyncIterable<Buffer> & { complete?: boolean };

/** How a PATCH ended: every byte received, cut (what arrived is kept), or past the declared length (nothing kept). */
export type AppendOutcome = 'ok' | 'interrupted' | 'overflow';

/** What the resumable upload routes need from a session store. */
export interface UploadSessionBackend {
  readonly ttlMs: number;
  create(init: Pick<UploadSession, 'tenantId' | 'entity' | 'field' | 'length' | 'contentType'>): Promise<UploadSession>;
  /** The tenant's live session, or null (unknown id, another tenant's, expired). */
  get(tenantId: string, id: string): Promise<UploadSession | null>;
  /** Bytes received so far (the declared length once complete). */
  offset(session: UploadSession): Promise<number>;
  /** Appends the body at `offset` (the current offset); bytes that arrived before a cut are kept. */
  append(session: UploadSession, offset: number, body: ChunkSource): Promise<AppendOutcome>;
  /** A local file with every received byte (to hash and store), and its clean-up. */
  open(session: UploadSession): Promise<{ file: string; release(): Promise<void> }>;
  /** Marks the session complete with its answer and drops its bytes. */
  complete(session: UploadSession, result: UploadSessionResult): Promise<UploadSession>;
}

/** Reads `body` into `out` from `offset`, stopping (reading on, writing nothing) past `length`. */
export async function receiveChunk(
  body: ChunkSource,
  out: NodeJS.WritableStream,
  offset: number,
  length: number,
): Promise<{ outcome: AppendOutcome; written: number }> {
  let written = offset;
  let outcome: AppendOutcome = 'ok';
  try {
    for await (const chunk of body) {
      if (outcome === 'overflow' || written + chunk.length > length) {
        outcome = 'overflow'; // read on (not written), so the client gets the answer
        continue;
      }
      written += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    if (body.complete === false) outcome = 'interrupted';
  } catch {
    outcome = 'interrupted';
  }
  return { outcome, written: written - offset };
}

/** 24 hours. */
export const DEFAULT_UPLOAD_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadSessionStore implements UploadSessionBackend {
  private lastSweep = -Infinity;

  constructor(
    readonly directory: string,
    readonly ttlMs: number = DEFAULT_UPLOAD_SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error('UploadSessionStore: the session lifetime must be positive');
  }

  partPath(id: string): string {
    if (!UUID.test(id)) throw new Error(`not an upload session id: ${id}`);
    return path.join(this.directory, `${id}.part`);
  }

  private metaPath(id: string): string {
    return path.join(this.directory, `${id}.json`);
  }

  async create(init: Pick<UploadSession, 'tenantId' | 'entity' | 'field' | 'length' | 'contentType'>): Promise<UploadSession> {
    await mkdir(this.directory, { recursive: true });
    await this.sweep();
    const createdAt = this.now();
    const session: UploadSession = { id: randomUUID(), ...init, createdAt, expiresAt: createdAt + this.ttlMs };
    await writeFile(this.partPath(session.id), new Uint8Array(0), { flag: 'wx' });
    await writeFile(this.metaPath(session.id), JSON.stringify(session));
    return session;
  }

  /** The tenant's live session, or null (unknown id, another tenant's, expired: the latter is removed). */
  async get(tenantId: string, id: string): Promise<UploadSession | null> {
    if (!UUID.test(id)) return null;
    let session: UploadSession;
    try {
      session = JSON.parse(await readFile(this.metaPath(id), 'utf8')) as UploadSession;
    } catch {
      return null;
    }
    if (this.now() >= session.expiresAt) {
      await this.remove(id);
      return null;
    }
    return session.tenantId === tenantId ? session : null;
  }

  /** Bytes received so far (the declared length once the session is complete). */
  async offset(session: UploadSession): Promise<number> {
    if (session.result) return session.length;
    try {
      return (await stat(this.partPath(session.id))).size;
    } catch {
      return 0;
    }
  }

  async append(session: UploadSession, offset: number, body: ChunkSource): Promise<AppendOutcome> {
    const out = createWriteStream(this.partPath(session.id), { flags: 'a' });
    const closed = new Promise<void>((resolve) => out.once('close', resolve));
    let outcome: AppendOutcome;
    try {
      ({ outcome } = await receiveChunk(body, out, offset, session.length));
    } finally {
      out.end();
      await closed;
    }
    if (outcome === 'overflow') await this.truncate(session.id, offset);
    return outcome;
  }

  async open(session: UploadSession): Promise<{ file: string; release(): Promise<void> }> {
    return { file: this.partPath(session.id), release: async () => undefined };
  }

  /** Cuts the received bytes back to `offset` (after a refused chunk). */
  async truncate(id: string, offset: number): Promise<void> {
    await truncate(this.partPath(id), offset);
  }

  /** Marks the session complete (its bytes are stored elsewhere now) and drops its `.part` file. */
  async complete(session: UploadSession, result: UploadSessionResult): Promise<UploadSession> {
    const done = { ...session, result };
    await writeFile(this.metaPath(session.id), JSON.stringify(done));
    await rm(this.partPath(session.id), { force: true });
    return done;
  }

  async remove(id: string): Promise<void> {
    await rm(this.metaPath(id), { force: true });
    await rm(this.partPath(id), { force: true });
  }

  /** Removes expired sessions (at most once a minute unless `force`). Returns how many. */
  async sweep(force = false): Promise<number> {
    const now = this.now();
    if (!force && now - this.lastSweep < SWEEP_EVERY_MS) return 0;
    this.lastSweep = now;
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const id = name.replace(/\.(json|part)$/, '');
      if (!UUID.test(id)) continue;
      if (name.endsWith('.json')) {
        try {
          const session = JSON.parse(await readFile(path.join(this.directory, name), 'utf8')) as UploadSession;
          if (now < session.expiresAt) continue;
        } catch {
          // unreadable: a leftover, removed below
        }
        await this.remove(id);
        removed += 1;
      } else if (!names.includes(`${id}.json`)) {
        // A .part without metadata (a crash between the two writes of create) that is old enough.
        const info = await stat(path.join(this.directory, name)).catch(() => null);
        if (info && now - info.mtimeMs >= this.ttlMs) {
          await rm(path.join(this.directory, name), { force: true });
          removed += 1;
        }
      }
    }
    return removed;
  }
}
