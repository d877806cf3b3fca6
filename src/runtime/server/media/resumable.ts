/**
 * Resumable uploads (a small protocol in the spirit of tus), beside the one-shot
 * multipart POST of media.ts:
 *
 *   POST  /uploads/<Entity>/<field>/sessions   headers Upload-Length, Content-Type (the file's)
 *         -> 201 { session, offset: 0, length }   (413 / 415 at once, like the one-shot POST)
 *   HEAD  /uploads/sessions/<id>               -> 200, header Upload-Offset (and Upload-Length)
 *   GET   /uploads/sessions/<id>               -> 200 { session, offset, length } (+ the result once complete)
 *   PATCH /uploads/sessions/<id>               header Upload-Offset: n, body application/offset+octet-stream
 *         -> 200 { session, offset, length } while incomplete;
 *            201 (stored) / 200 (same bytes already stored) { url, sha256, size, contentType } on the last byte
 *         409 OFFSET_MISMATCH { error: { ..., offset } } when n is not the received size
 *         413 FILE_TOO_LARGE when the body goes past Upload-Length (the chunk is dropped)
 *
 * Same Bearer auth as the other routes; a session is its tenant's only (else 404).
 * Bytes that arrive before a connection is cut are kept, so the next PATCH goes on
 * from there. A new PATCH on a session still receiving an older one (a half-open
 * connection of the same device) ends the older one first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { TrackhubCore } from '../core.js';
import {
  accepts,
  MediaError,
  mimeOf,
  sendError,
  sendJson,
  tooLarge,
  unsupportedType,
  type MediaOptions,
  type MediaRoutes,
  type Request,
  type UploadResult,
} from './http.js';
import { DEFAULT_UPLOAD_SESSION_TTL_MS, UploadSessionStore, type UploadSession, type UploadSessionBackend } from './sessions.js';

const CHUNK_TYPES = new Set(['application/offset+octet-stream', 'application/octet-stream']);

function notFound(): MediaError {
  return new MediaError(404, 'NOT_FOUND', 'No such upload session (unknown, expired or another tenant’s)');
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A non-negative integer header, or a BAD_UPLOAD error. */
function integerHeader(req: Request, name: string): number {
  const raw = header(req, name)?.trim();
  if (!raw || !/^\d{1,15}$/.test(raw)) throw new MediaError(400, 'BAD_UPLOAD', `Send a ${name} header (a byte count)`);
  return Number(raw);
}

export class ResumableUploads {
  readonly store: UploadSessionBackend;
  /** Sessions receiving a PATCH right now: the request and a promise settled once its bytes are on disk. */
  private readonly active = new Map<string, { req: Request; done: Promise<void> }>();

  constructor(
    private readonly media: MediaRoutes,
    private readonly core: { metrics?: TrackhubCore['metrics'] },
    options: MediaOptions,
  ) {
    const directory =
      options.sessionDirectory ?? path.join(options.tempDirectory ?? tmpdir(), 'trackhub-upload-sessions');
    this.store =
      options.sessions ?? new UploadSessionStore(directory, options.sessionTtlMs ?? DEFAULT_UPLOAD_SESSION_TTL_MS, options.now);
  }

  private fail(req: Request, res: ServerResponse, error: unknown, entity?: string): void {
    if (error instanceof MediaError) {
      // A resync (409) is not an outcome of the upload.
      if (entity !== undefined && error.code !== 'OFFSET_MISMATCH') this.core.metrics?.observeUpload(entity, error.code);
      sendError(req, res, error);
    } else {
      if (entity !== undefined) this.core.metrics?.observeUpload(entity, 'INTERNAL');
      sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Upload failed' } });
    }
  }

  /** `POST /uploads/:entity/:field/sessions`. */
  async handleCreate(req: Request, res: ServerResponse, entity: string, field: string): Promise<void> {
    try {
      const principal = await this.media.principal(req);
      const media = this.media.fieldOf(entity, field);
      const limits = this.media.limitsFor(media.entity, media.field.name);
      const length = integerHeader(req, 'upload-length');
      if (length < 1) throw new MediaError(400, 'BAD_UPLOAD', 'Upload-Length must be at least 1 (send an empty file with the one-shot POST)');
      if (length > limits.maxBytes) throw tooLarge(limits.maxBytes);
      const contentType = mimeOf(header(req, 'content-type'));
      if (!accepts(limits.contentTypes, contentType)) throw unsupportedType(contentType, limits.contentTypes);
      req.resume(); // a body, if any, is ignored
      const session = await this.store.create({
        tenantId: principal.tenantId,
        entity: media.entity,
        field: media.field.name,
        length,
        contentType,
      });
      res.setHeader('location', `${this.media.baseUrl(req)}/sessions/${session.id}`);
      res.setHeader('upload-offset', '0');
      sendJson(res, 201, { session: session.id, offset: 0, length });
    } catch (error) {
      this.fail(req, res, error, entity);
    }
  }

  /** `HEAD` / `GET /uploads/sessions/:id`: the offset to continue from (and the result once complete). */
  async handleStatus(req: Request, res: ServerResponse, id: string): Promise<void> {
    try {
      const principal = await this.media.principal(req);
      const session = await this.store.get(principal.tenantId, id);
      if (!session) throw notFound();
      const offset = await this.store.offset(session);
      res.setHeader('upload-offset', String(offset));
      res.setHeader('upload-length', String(session.length));
      res.setHeader('cache-control', 'no-store');
      sendJson(res, 200, { session: session.id, offset, length: session.length, ...session.result });
    } catch (error) {
      this.fail(req, res, error);
    }
  }

  /** `PATCH /uploads/sessions/:id`: appends the body at `Upload-Offset`; stores the file on its last byte. */
  async handlePatch(req: Request, res: ServerResponse, id: string): Promise<void> {
    let entity: string | undefined;
    const lock = { held: false, release: (): void => undefined };
    try {
      const principal = await this.media.principal(req);
      if (!(await this.store.get(principal.tenantId, id))) throw notFound();
      // An older PATCH still receiving (its connection is dead but not yet noticed): end it first
      // (in a loop: another PATCH may have taken the session while this one waited).
      for (let previous = this.active.get(id); previous; previous = this.active.get(id)) {
        previous.req.destroy();
        await previous.done;
      }
      const done = new Promise<void>((resolve) => {
        lock.release = resolve;
      });
      lock.held = true;
      this.active.set(id, { req, done });
      const session = await this.store.get(principal.tenantId, id); // again: it may have completed meanwhile
      if (!session) throw notFound();
      entity = session.entity;
      const offset = await this.store.offset(session);
      const claimed = integerHeader(req, 'upload-offset');
      if (claimed !== offset)
        throw new MediaError(409, 'OFFSET_MISMATCH', `The session has ${offset} bytes; send from there`, { offset });
      if (session.result) {
        // Already complete (the answer to the last chunk was lost): the same answer again.
        sendJson(res, 200, session.result);
        return;
      }
      if (!CHUNK_TYPES.has(mimeOf(header(req, 'content-type'))))
        throw new MediaError(400, 'BAD_UPLOAD', 'Send the bytes as application/offset+octet-stream');
      const declared = Number(header(req, 'content-length'));
      if (Number.isFinite(declared) && offset + declared > session.length) throw beyondLength(session);

      const received = await this.store.append(session, offset, req);
      if (received === 'interrupted') {
        this.core.metrics?.observeUpload(session.entity, 'INTERRUPTED');
        res.destroy();
        return;
      }
      if (received === 'overflow') throw beyondLength(session);
      const now = await this.store.offset(session);
      res.setHeader('upload-offset', String(now));
      if (now < session.length) {
        sendJson(res, 200, { session: session.id, offset: now, length: session.length });
        return;
      }
      const { created, body } = await this.finish(req, session);
      this.core.metrics?.observeUpload(session.entity, created ? 'stored' : 'deduplicated', body.size);
      sendJson(res, created ? 201 : 200, body);
    } catch (error) {
      this.fail(req, res, error, entity);
    } finally {
      if (lock.held) {
        if (this.active.get(id)?.req === req) this.active.delete(id);
        lock.release();
      }
    }
  }

  /** Hashes the complete file, stores it unless the tenant holds those bytes, and closes the session. */
  private async finish(req: Request, session: UploadSession): Promise<{ created: boolean; body: UploadResult }> {
    const { file, release } = await this.store.open(session);
    try {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      const info = { sha256: hash.digest('hex'), size: session.length, contentType: session.contentType };
      const kept = await this.media.keep(req, session.tenantId, info, file);
      await this.store.complete(session, kept.body);
      return kept;
    } finally {
      await release();
    }
  }
}

function beyondLength(session: UploadSession): MediaError {
  return new MediaError(413, 'FILE_TOO_LARGE', `The bytes go past the declared Upload-Length of ${session.length}`);
}
