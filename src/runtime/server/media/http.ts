/**
 * The HTTP vocabulary of the media routes, shared by the multipart upload
 * (media.ts) and the resumable sessions (resumable.ts): options and limits,
 * the error type, content-type checks and JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Principal } from '../auth.js';
import type { FieldDescriptor } from '../descriptor.js';
import type { UploadSessionBackend } from './sessions.js';
import type { MediaStorage } from './storage.js';

/** 10 MiB. */
export const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;
/** Photos: the types phone cameras and browsers produce. */
export const DEFAULT_MEDIA_CONTENT_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/heic',
  'image/heif',
  'image/avif',
];

export interface MediaLimits {
  /** Largest file in bytes (default 10 MiB). */
  maxBytes?: number;
  /** Accepted content types of the file part; `type/*` wildcards allowed (default: common photo types). */
  contentTypes?: readonly string[];
}

export interface MediaOptions extends MediaLimits {
  /** Where files go (default: `LocalDiskStorage` in `directory`). */
  storage?: MediaStorage;
  /** Root directory of the default local-disk storage (default `$TRACKHUB_MEDIA_DIR` or `./media`). */
  directory?: string;
  /** Per-field limits, keyed `Entity.field` (e.g. `Space.coverUrl`); they override the defaults above. */
  fields?: Record<string, MediaLimits>;
  /**
   * Base of the URLs handed out, e.g. `https://api.example.com/uploads`
   * (default: the request's protocol and Host header + `/uploads`).
   */
  publicUrl?: string;
  /** Directory for in-flight uploads (default: the OS temp directory). */
  tempDirectory?: string;
  /**
   * Where resumable upload sessions live (default: `UploadSessionStore` on local disk in
   * `sessionDirectory`). Several replicas: keep them where every replica reaches them
   * (`s3Media(...)` from `trackhub-gen/runtime/server/s3` keeps them in the bucket).
   */
  sessions?: UploadSessionBackend;
  /** Directory of resumable upload sessions (default: `<tempDirectory>/trackhub-upload-sessions`). */
  sessionDirectory?: string;
  /** How long a resumable upload session lives after its creation (default 24 h). */
  sessionTtlMs?: number;
  /** Clock of session expiry (default Date.now; inject one in tests). */
  now?: () => number;
}

export interface UploadResult {
  url: string;
  sha256: string;
  size: number;
  contentType: string;
}

export type MediaErrorCode =
  | 'UNAUTHENTICATED'
  | 'UNKNOWN_MEDIA_FIELD'
  | 'BAD_UPLOAD'
  | 'FILE_TOO_LARGE'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'NOT_FOUND'
  | 'OFFSET_MISMATCH';

export class MediaError extends Error {
  constructor(
    readonly status: number,
    readonly code: MediaErrorCode,
    message: string,
    /** Extra members of the JSON error (e.g. `offset` of an OFFSET_MISMATCH). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export type Request = IncomingMessage & { protocol?: string };

export function mimeOf(value: string | undefined): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

export function accepts(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    return pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  // A refused body is drained (here or by Node), so the client reads this answer.
  res.end(text);
}

/** What the resumable routes need of the media routes (TrackhubMedia). */
export interface MediaRoutes {
  principal(req: Request): Promise<Principal>;
  fieldOf(entity: string, field: string, configKey?: string): { entity: string; field: FieldDescriptor };
  limitsFor(entity: string, field: string): Required<MediaLimits>;
  baseUrl(req: Request): string;
  keep(
    req: Request,
    tenantId: string,
    info: { sha256: string; size: number; contentType: string },
    file: string,
  ): Promise<{ created: boolean; body: UploadResult }>;
}

/** The JSON answer of a refused request (the rest of its body is drained, so the client reads it). */
export function sendError(req: Request, res: ServerResponse, error: MediaError): void {
  if (!req.complete) req.resume();
  sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.details } });
}

export function unsupportedType(contentType: string, accepted: readonly string[]): MediaError {
  return new MediaError(
    415,
    'UNSUPPORTED_CONTENT_TYPE',
    `Content type "${contentType || '(none)'}" is not accepted; accepted: ${accepted.join(', ')}`,
  );
}

export function tooLarge(maxBytes: number): MediaError {
  return new MediaError(413, 'FILE_TOO_LARGE', `The file is larger than the limit of ${maxBytes} bytes`);
}
