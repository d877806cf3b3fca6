/**
 * Uploads for `@sync.media` fields over plain HTTP (not GraphQL):
 *
 *   POST /uploads/<Entity>/<field>   multipart/form-data, exactly one file part
 *        -> 201 (stored) or 200 (same bytes already stored) { url, sha256, size, contentType }
 *   GET  /uploads/<sha256>           the file, to the tenant that uploaded it only
 *   and the resumable session routes of resumable.ts (`/uploads/<Entity>/<field>/sessions`,
 *   `/uploads/sessions/<id>`)
 *
 * Both take `Authorization: Bearer <token>` (the GraphQL token verifier). Errors are
 * JSON `{ error: { code, message } }`: 401 UNAUTHENTICATED, 404 UNKNOWN_MEDIA_FIELD,
 * 400 BAD_UPLOAD, 413 FILE_TOO_LARGE, 415 UNSUPPORTED_CONTENT_TYPE, 404 NOT_FOUND
 * (also for another tenant's file: existence does not leak).
 *
 * The body is streamed to a temporary file while it is hashed and counted, then
 * handed to the `MediaStorage` unless the tenant already holds those bytes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

import busboy from 'busboy';

import { authenticate, type Principal } from '../auth.js';
import type { TrackhubCore } from '../core.js';
import type { FieldDescriptor } from '../descriptor.js';
import {
  accepts,
  DEFAULT_MEDIA_CONTENT_TYPES,
  DEFAULT_MEDIA_MAX_BYTES,
  MediaError,
  mimeOf,
  sendError,
  sendJson,
  tooLarge,
  unsupportedType,
  type MediaLimits,
  type MediaOptions,
  type MediaRoutes,
  type Request,
  type UploadResult,
} from './http.js';
import { ResumableUploads } from './resumable.js';
import { LocalDiskStorage, type MediaStorage } from './storage.js';

/** Multipart framing allowance on top of the file itself, for the early Content-Length check. */
const FRAMING_BYTES = 64 * 1024;
const SHA256 = /^[0-9a-f]{64}$/;

export class TrackhubMedia implements MediaRoutes {
  readonly storage: MediaStorage;
  /** The resumable upload routes (`/uploads/<Entity>/<field>/sessions`, `/uploads/sessions/<id>`). */
  readonly sessions: ResumableUploads;
  private readonly options: MediaOptions;

  constructor(
    private readonly core: Pick<TrackhubCore, 'registry' | 'verifyToken'> & { metrics?: TrackhubCore['metrics'] },
    options: MediaOptions = {},
  ) {
    this.options = options;
    this.storage =
      options.storage ?? new LocalDiskStorage(options.directory ?? process.env.TRACKHUB_MEDIA_DIR ?? 'media');
    for (const key of Object.keys(options.fields ?? {})) this.fieldOf(key.split('.')[0], key.split('.')[1] ?? '', key);
    for (const limits of [options, ...Object.values(options.fields ?? {})]) {
      if (limits.maxBytes !== undefined && (!Number.isInteger(limits.maxBytes) || limits.maxBytes < 1))
        throw new Error('TrackhubMedia: maxBytes must be a positive integer');
    }
    this.sessions = new ResumableUploads(this, core, options);
  }

  /** The media field, or an UNKNOWN_MEDIA_FIELD error (a config key that names none throws at startup). */
  fieldOf(entity: string, field: string, configKey?: string): { entity: string; field: FieldDescriptor } {
    const descriptor = this.core.registry.find(entity);
    const target = descriptor?.fields.find((f) => f.name === field);
    if (!descriptor || !target || target.access !== 'media') {
      const message = `${entity}.${field} is not a @sync.media field`;
      if (configKey) throw new Error(`TrackhubMedia: media.fields["${configKey}"]: ${message}`);
      throw new MediaError(404, 'UNKNOWN_MEDIA_FIELD', message);
    }
    return { entity: descriptor.name, field: target };
  }

  /** Effective limits of a media field. */
  limitsFor(entity: string, field: string): Required<MediaLimits> {
    const own = this.options.fields?.[`${entity}.${field}`] ?? {};
    return {
      maxBytes: own.maxBytes ?? this.options.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES,
      contentTypes: own.contentTypes ?? this.options.contentTypes ?? DEFAULT_MEDIA_CONTENT_TYPES,
    };
  }

  async principal(req: Request): Promise<Principal> {
    try {
      return await authenticate({ req }, this.core.verifyToken);
    } catch (error) {
      throw new MediaError(401, 'UNAUTHENTICATED', (error as Error).message);
    }
  }

  baseUrl(req: Request): string {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/+$/, '');
    const protocol = req.protocol ?? 'http';
    return `${protocol}://${req.headers.host ?? 'localhost'}/uploads`;
  }

  /** Handles `POST /uploads/:entity/:field`. Always answers (never throws). */
  async handleUpload(req: Request, res: ServerResponse, entity: string, field: string): Promise<void> {
    const observe = (outcome: string, bytes = 0): void => this.core.metrics?.observeUpload(entity, outcome, bytes);
    try {
      const principal = await this.principal(req);
      const media = this.fieldOf(entity, field);
      const limits = this.limitsFor(media.entity, media.field.name);
      if (mimeOf(req.headers['content-type']) !== 'multipart/form-data')
        throw new MediaError(400, 'BAD_UPLOAD', 'Send multipart/form-data with one file part');
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes + FRAMING_BYTES) throw tooLarge(limits.maxBytes);
      const result = await this.receive(req, principal, limits);
      observe(result.created ? 'stored' : 'deduplicated', result.body.size);
      sendJson(res, result.created ? 201 : 200, result.body);
    } catch (error) {
      if (error instanceof MediaError) {
        observe(error.code);
        sendError(req, res, error);
      } else if (!req.complete || req.destroyed) {
        observe('INTERRUPTED');
        res.destroy();
      } else {
        observe('INTERNAL');
        sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Upload failed' } });
      }
    }
  }

  /** Streams the one file part to a temp file (hash + size), then stores it unless already present. */
  private async receive(
    req: Request,
    principal: Principal,
    limits: Required<MediaLimits>,
  ): Promise<{ created: boolean; body: UploadResult }> {
    const tempDir = this.options.tempDirectory ?? tmpdir();
    await mkdir(tempDir, { recursive: true });
    const temp = path.join(tempDir, `trackhub-upload-${randomUUID()}`);
    try {
      const file = await parseOneFile(req, temp, limits);
      return await this.keep(req, principal.tenantId, file, temp);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /**
   * Hands a complete received file (hashed, at `file`) to the storage unless the
   * tenant already holds those bytes; the answer of a finished upload.
   */
  async keep(
    req: Request,
    tenantId: string,
    info: { sha256: string; size: number; contentType: string },
    file: string,
  ): Promise<{ created: boolean; body: UploadResult }> {
    const stored = { sha256: info.sha256, size: info.size, contentType: info.contentType };
    let created = false;
    if (!(await this.storage.exists(tenantId, stored.sha256))) {
      await this.storage.put(tenantId, stored, createReadStream(file));
      created = true;
    }
    return { created, body: { url: `${this.baseUrl(req)}/${stored.sha256}`, ...stored } };
  }

  /** Handles `GET /uploads/:sha256`: the file to its own tenant, 404 to everyone else. */
  async handleDownload(req: Request, res: ServerResponse, sha256: string): Promise<void> {
    try {
      const principal = await this.principal(req);
      const stored = SHA256.test(sha256) ? await this.storage.get(principal.tenantId, sha256) : null;
      if (!stored) throw new MediaError(404, 'NOT_FOUND', 'No such file');
      const etag = `"${stored.sha256}"`;
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'private, max-age=31536000, immutable');
      res.setHeader('x-content-type-options', 'nosniff');
      if (req.headers['if-none-match'] === etag) {
        stored.body.destroy();
        res.statusCode = 304;
        res.end();
        return;
      }
      res.statusCode = 200;
      res.setHeader('content-type', stored.contentType);
      res.setHeader('content-length', stored.size);
      await pipe(stored.body, res);
    } catch (error) {
      if (error instanceof MediaError) sendError(req, res, error);
      else sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Download failed' } });
    }
  }
}

function pipe(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    body.on('error', reject);
    res.on('close', () => {
      body.destroy();
      resolve();
    });
    body.pipe(res);
  });
}

interface ReceivedFile {
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * Parses a multipart body that must hold exactly one file part, writing it to
 * `temp`. Rejects with a MediaError on a refused file, and with a plain error
 * when the request is cut off midway (the temp file is the caller's to remove).
 */
function parseOneFile(req: Request, temp: string, limits: Required<MediaLimits>): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: limits.maxBytes, fields: 20, parts: 21, fieldSize: 64 * 1024 },
      });
    } catch (error) {
      reject(new MediaError(400, 'BAD_UPLOAD', `Bad multipart request: ${(error as Error).message}`));
      return;
    }
    let failure: Error | null = null;
    let file: {
      src: Readable;
      out: WriteStream;
      done: Promise<void>;
      hash: ReturnType<typeof createHash>;
      size: number;
      contentType: string;
    } | null = null;

    const finish = (error: Error | null, value?: ReceivedFile): void => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      if (error) {
        req.resume(); // drain what is left so the answer can be read
        const out = file?.out;
        if (!out) return reject(error);
        file!.src.unpipe(out);
        file!.src.resume();
        // Reject once the temp file is closed, so the caller's removal cannot race its creation.
        if (out.closed) return reject(error);
        out.once('close', () => reject(error));
        out.destroy();
      } else resolve(value as ReceivedFile);
    };

    parser.on('file', (_name, stream, info) => {
      if (file || failure) {
        stream.resume();
        return;
      }
      const contentType = mimeOf(info.mimeType);
      if (!accepts(limits.contentTypes, contentType)) {
        failure = unsupportedType(contentType, limits.contentTypes);
        stream.resume();
        finish(failure);
        return;
      }
      const out = createWriteStream(temp, { flags: 'wx' });
      const current = {
        src: stream,
        out,
        hash: createHash('sha256'),
        size: 0,
        contentType,
        done: new Promise<void>((ok, ko) => {
          out.on('finish', ok);
          out.on('error', ko);
        }),
      };
      current.done.catch(() => undefined); // awaited on success; a destroyed stream's error is expected
      file = current;
      stream.on('data', (chunk: Buffer) => {
        current.hash.update(chunk);
        current.size += chunk.length;
      });
      stream.on('limit', () => {
        failure = tooLarge(limits.maxBytes);
        finish(failure);
      });
      stream.pipe(out);
    });
    parser.on('filesLimit', () => {
      failure = new MediaError(400, 'BAD_UPLOAD', 'Send exactly one file part');
      finish(failure);
    });
    parser.on('error', (error: Error) => finish(new MediaError(400, 'BAD_UPLOAD', `Bad multipart request: ${error.message}`)));
    parser.on('close', () => {
      if (failure) return finish(failure);
      const current = file;
      if (!current) return finish(new MediaError(400, 'BAD_UPLOAD', 'No file part in the request'));
      current.done.then(
        () => finish(null, { sha256: current.hash.digest('hex'), size: current.size, contentType: current.contentType }),
        (error: Error) => finish(error),
      );
    });
    // The client went away midway: no file, nothing stored.
    req.on('close', () => {
      if (!req.complete) finish(new Error('Upload interrupted: the request ended before its body'));
    });
    req.on('error', (error) => finish(error));
    req.pipe(parser);
  });
}
