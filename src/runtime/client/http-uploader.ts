/**
 * A ready-made `Uploader` for the generated server's upload endpoint:
 * `POST <url>/<Entity>/<field>` (multipart, one file part named `file`) with the
 * same bearer token as GraphQL; resolves with the URL the server answers.
 *
 *   createClient({ ..., uploader: httpUploader({ url: uploadsUrl(graphqlUrl), token }) })
 *
 * A refusal the same bytes would get again (400 / 404 / 413 / 415) throws an
 * `UploadRejectedError`: the queue marks the upload `rejected` and stops retrying it.
 * Anything else (network, 401, 5xx) throws a plain error: retried later with backoff.
 */
import type { UploadRequest, Uploader } from './uploads.js';

/** The subset of `fetch` the uploader uses (a multipart body). */
export type UploadFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: FormData; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface HttpUploaderOptions {
  /** Upload endpoint base, e.g. `http://127.0.0.1:3000/uploads` (see `uploadsUrl`). */
  url: string;
  token?: string;
  /** Token provider, called before every upload (wins over `token`). */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Defaults to the global fetch. */
  fetch?: UploadFetch;
  /** Reads the local file (default: `fs.promises.readFile`; on React Native pass your own). */
  readFile?: (localPath: string) => Promise<Uint8Array>;
  /**
   * Content type of the file part. Default: `meta.contentType` (from `attachFile(..., { contentType })`),
   * else guessed from the file extension, else `application/octet-stream`.
   */
  contentType?: (request: UploadRequest) => string;
  /** Abort an upload after this many milliseconds (default 120 000; 0 = never). */
  timeoutMs?: number;
}

/** The server refused the file for good (too large, wrong type, not a media field). */
export class UploadRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UploadRejectedError';
  }
}

/** `http://host/graphql` -> `http://host/uploads` (the generated server's upload routes). */
export function uploadsUrl(graphqlUrl: string): string {
  return new URL('/uploads', graphqlUrl).href;
}

const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  pdf: 'application/pdf',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
};

function guessContentType(request: UploadRequest): string {
  const meta = request.meta as { contentType?: unknown } | null;
  if (meta && typeof meta.contentType === 'string' && meta.contentType) return meta.contentType;
  const ext = /\.([A-Za-z0-9]+)$/.exec(request.localPath)?.[1]?.toLowerCase();
  return (ext && BY_EXTENSION[ext]) || 'application/octet-stream';
}

async function nodeReadFile(localPath: string): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  return fs.readFile(localPath);
}

/** Statuses that mean "the same request will be refused again". */
const PERMANENT = new Set([400, 404, 413, 415, 422]);

export function httpUploader(options: HttpUploaderOptions): Uploader {
  const base = options.url.replace(/\/+$/, '');
  const readFile = options.readFile ?? nodeReadFile;
  const contentType = options.contentType ?? guessContentType;
  const send: UploadFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? 120_000;

  return async (request) => {
    const bytes = await readFile(request.localPath);
    const form = new FormData();
    const name = request.localPath.split(/[\\/]/).pop() || 'file';
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType(request) }), name);
    const token = options.getToken ? await options.getToken() : options.token;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const url = `${base}/${encodeURIComponent(request.entity)}/${encodeURIComponent(request.field)}`;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const res = await send(url, { method: 'POST', headers, body: form, ...(signal ? { signal } : {}) });
    const text = await res.text();
    let body: { url?: unknown; error?: { code?: unknown; message?: unknown } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: reported below with the status
    }
    if (res.ok && typeof body.url === 'string') return body.url;
    const code = typeof body.error?.code === 'string' ? body.error.code : `HTTP_${res.status}`;
    const message = `upload refused (${res.status} ${code}): ${
      typeof body.error?.message === 'string' ? body.error.message : text.slice(0, 200)
    }`;
    if (PERMANENT.has(res.status)) throw new UploadRejectedError(res.status, code, message);
    throw new Error(message);
  };
}
