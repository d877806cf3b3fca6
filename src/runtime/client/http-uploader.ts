/**
 * A ready-made `Uploader` for the generated server's upload endpoints, with the
 * same bearer token as GraphQL; resolves with the URL the server answers.
 *
 * Files from `resumableFromBytes` (default 256 KiB) up go through a resumable
 * session: `POST <url>/<Entity>/<field>/sessions`, then `PATCH <url>/sessions/<id>`
 * with `chunkSize` bytes at a time read from disk (or sliced from an attached Blob / File). The session id is saved in the
 * upload's row (`saveResume`), so when an attempt fails (it throws as before: the
 * queue's backoff applies) the next one asks the server for its offset and sends only
 * the rest; an expired or unknown session starts over. Smaller files go in one
 * multipart `POST <url>/<Entity>/<field>` (one file part named `file`).
 *
 *   createClient({ ..., uploader: httpUploader({ url: uploadsUrl(graphqlUrl), token }) })
 *
 * A refusal the same bytes would get again (400 / 404 / 413 / 415) throws an
 * `UploadRejectedError`: the queue marks the upload `rejected` and stops retrying it.
 * Anything else (network, 401, 5xx) throws a plain error: retried later with backoff.
 */
import { nodeFs } from './node-builtins.js';
import type { UploadRequest, Uploader } from './uploads.js';

/** The subset of `fetch` the uploader uses (a multipart body, a raw chunk, or none). */
export type UploadFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: FormData | Uint8Array<ArrayBuffer>; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface HttpUploaderOptions {
  /** Upload endpoint base, e.g. `http://127.0.0.1:3000/uploads` (see `uploadsUrl`). */
  url: string;
  token?: string;
  /** Token provider, called before every upload (wins over `token`). */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once when the server answers 401 (the token expired): its token is used for the
   * retry and from then on, like the GraphQL transport's `refreshToken` (pass the same one).
   * Without it, or when it gives no token, the 401 fails the attempt (retried later).
   */
  refreshToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Defaults to the global fetch. */
  fetch?: UploadFetch;
  /** Reads the local file (default: `fs.promises.readFile`; on React Native pass your own). */
  readFile?: (localPath: string) => Promise<Uint8Array>;
  /**
   * Reads `length` bytes of the file from `offset`, and its size (default: node:fs; on React Native
   * pass your own, e.g. over react-native-fs `read(path, length, position, 'base64')` and `stat`).
   * Without them but with `readFile`, the whole file is read and sliced.
   */
  readChunk?: (localPath: string, offset: number, length: number) => Promise<Uint8Array>;
  fileSize?: (localPath: string) => Promise<number>;
  /** Bytes per PATCH of a resumable upload (default 1 MiB). */
  chunkSize?: number;
  /** Files of at least this size use a resumable session (default 256 KiB; 0 = always, Infinity = never). */
  resumableFromBytes?: number;
  /**
   * Content type of the file part. Default: `meta.contentType` (from `attachFile(..., { contentType })`),
   * else guessed from the file extension, else `application/octet-stream`.
   */
  contentType?: (request: UploadRequest) => string;
  /** Abort an upload request (one POST, or one chunk) after this many milliseconds (default 120 000; 0 = never). */
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

function fsPromises(): typeof import('node:fs').promises {
  const fs = nodeFs();
  if (!fs) {
    throw new Error(
      'httpUploader: no file system here; pass readFile (or readChunk and fileSize), e.g. over react-native-fs, or upload Blobs',
    );
  }
  return fs.promises;
}

async function nodeReadFile(localPath: string): Promise<Uint8Array> {
  return fsPromises().readFile(localPath);
}

async function nodeReadChunk(localPath: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await fsPromises().open(localPath, 'r');
  try {
    const buffer = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await file.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  } finally {
    await file.close();
  }
}

async function nodeFileSize(localPath: string): Promise<number> {
  return (await fsPromises().stat(localPath)).size;
}

/** Statuses that mean "the same request will be refused again". */
const PERMANENT = new Set([400, 404, 413, 415, 422]);

/** What the uploader saves in the upload's row between attempts. */
interface ResumeState {
  session: string;
  size: number;
}

function resumeStateOf(value: unknown): ResumeState | null {
  const v = value as Partial<ResumeState> | null;
  return v && typeof v.session === 'string' && typeof v.size === 'number' ? { session: v.session, size: v.size } : null;
}

interface Answer {
  status: number;
  ok: boolean;
  text: string;
  body: {
    url?: unknown;
    session?: unknown;
    offset?: unknown;
    error?: { code?: unknown; message?: unknown; offset?: unknown };
  };
}

function refusal(answer: Answer): Error {
  const { status, body, text } = answer;
  const code = typeof body.error?.code === 'string' ? body.error.code : `HTTP_${status}`;
  const message = `upload refused (${status} ${code}): ${
    typeof body.error?.message === 'string' ? body.error.message : text.slice(0, 200)
  }`;
  if (PERMANENT.has(status)) return new UploadRejectedError(status, code, message);
  return new Error(message);
}

export function httpUploader(options: HttpUploaderOptions): Uploader {
  const base = options.url.replace(/\/+$/, '');
  const readFile = options.readFile ?? nodeReadFile;
  const contentType = options.contentType ?? guessContentType;
  const send: UploadFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const chunkSize = options.chunkSize ?? 1024 * 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error('httpUploader: chunkSize must be a positive integer');
  const resumableFrom = options.resumableFromBytes ?? 256 * 1024;
  const fileSize =
    options.fileSize ?? (options.readFile ? async (p: string) => (await readFile(p)).byteLength : nodeFileSize);
  const readChunk =
    options.readChunk ??
    (options.readFile ? async (p: string, offset: number, length: number) => (await readFile(p)).subarray(offset, offset + length) : nodeReadChunk);

  /** The token from `refreshToken`, used until the next refresh. */
  let refreshed: string | undefined;
  let refreshing: Promise<string | null> | null = null;
  const currentToken = async (): Promise<string | null | undefined> =>
    (options.getToken ? ((await options.getToken()) ?? refreshed) : refreshed) ?? options.token;
  /** One refresh shared by the requests refused meanwhile. */
  const refresh = (): Promise<string | null> => {
    const refreshToken = options.refreshToken;
    if (!refreshToken) return Promise.resolve(null);
    refreshing ??= (async () => {
      try {
        const fresh = await refreshToken();
        if (typeof fresh !== 'string' || fresh === '') return null;
        refreshed = fresh;
        return fresh;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  const headersFor = async (extra: Record<string, string> = {}): Promise<Record<string, string>> => {
    const token = await currentToken();
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  };

  /** Sends; on a 401, refreshes the token once and sends again with it. */
  const sendAuthed: UploadFetch = async (url, init) => {
    const first = await send(url, init);
    if (first.status !== 401 || !options.refreshToken) return first;
    await first.text().catch(() => undefined);
    const fresh = await refresh();
    if (!fresh) return first;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    return send(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${fresh}` }, ...(signal ? { signal } : {}) });
  };

  const call = async (url: string, method: string, headers: Record<string, string>, body?: Uint8Array<ArrayBuffer>): Promise<Answer> => {
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const res = await sendAuthed(url, { method, headers, ...(body ? { body } : {}), ...(signal ? { signal } : {}) });
    const text = await res.text();
    let parsed: Answer['body'] = {};
    try {
      parsed = (JSON.parse(text) as Answer['body']) ?? {};
    } catch {
      // not JSON: reported with the status
    }
    return { status: res.status, ok: res.ok, text, body: parsed };
  };

  /** A resumable upload; null when the server has no session routes (an older server): use the one-shot POST. */
  const resumable = async (
    request: UploadRequest,
    size: number,
    read: (localPath: string, offset: number, length: number) => Promise<Uint8Array> = readChunk,
  ): Promise<string | null> => {
    let state = resumeStateOf(request.resume);
    let offset = 0;
    if (state && state.size === size) {
      const status = await call(`${base}/sessions/${encodeURIComponent(state.session)}`, 'GET', await headersFor());
      if (status.ok && typeof status.body.url === 'string') return status.body.url; // done; the answer was lost
      if (status.ok && typeof status.body.offset === 'number') offset = status.body.offset;
      else if (status.status === 404) state = null; // expired or unknown: start over
      else throw refusal({ ...status, status: status.status === 409 ? 500 : status.status });
    } else state = null;

    if (!state) {
      const url = `${base}/${encodeURIComponent(request.entity)}/${encodeURIComponent(request.field)}/sessions`;
      const created = await call(
        url,
        'POST',
        await headersFor({ 'upload-length': String(size), 'content-type': contentType(request) }),
      );
      if (created.status === 404 && typeof created.body.error?.code !== 'string') return null;
      if (!created.ok || typeof created.body.session !== 'string') throw refusal(created);
      state = { session: created.body.session, size };
      offset = 0;
      await request.saveResume?.(state);
    }

    const sessionUrl = `${base}/sessions/${encodeURIComponent(state.session)}`;
    let mismatches = 0;
    for (;;) {
      const length = Math.min(chunkSize, size - offset);
      const chunk = await read(request.localPath, offset, length);
      if (chunk.byteLength !== length) throw new Error(`upload: ${request.localPath} changed while uploading`);
      const answer = await call(
        sessionUrl,
        'PATCH',
        await headersFor({ 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }),
        chunk as Uint8Array<ArrayBuffer>,
      );
      if (answer.ok && typeof answer.body.url === 'string') return answer.body.url;
      if (answer.ok && typeof answer.body.offset === 'number') {
        offset = answer.body.offset;
        continue;
      }
      if (answer.status === 409 && typeof answer.body.error?.offset === 'number' && mismatches < 3) {
        mismatches += 1;
        offset = answer.body.error.offset;
        continue;
      }
      if (answer.status === 404) await request.saveResume?.(null); // gone (expired): the next attempt starts over
      throw refusal(answer.status === 404 || answer.status === 409 ? { ...answer, status: 503 } : answer);
    }
  };

  /** One multipart POST with the whole file. */
  const oneShot = async (request: UploadRequest, bytes: Uint8Array): Promise<string> => {
    const form = new FormData();
    const name = request.localPath.split(/[\\/]/).pop() || 'file';
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType(request) }), name);
    const headers = await headersFor();
    const url = `${base}/${encodeURIComponent(request.entity)}/${encodeURIComponent(request.field)}`;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const res = await sendAuthed(url, { method: 'POST', headers, body: form, ...(signal ? { signal } : {}) });
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

  /** A Blob / File: its size is known, and each chunk is a `slice` (never read whole). */
  const uploadBlob = async (request: UploadRequest, blob: Blob): Promise<string> => {
    const bytesOf = async (part: Blob): Promise<Uint8Array> => new Uint8Array(await part.arrayBuffer());
    if (resumableFrom !== Infinity && blob.size > 0 && blob.size >= resumableFrom) {
      const url = await resumable(request, blob.size, (_path, offset, length) =>
        bytesOf(blob.slice(offset, offset + length)),
      );
      if (url !== null) return url;
    }
    return oneShot(request, await bytesOf(blob));
  };

  return async (request) => {
    if (request.blob) return uploadBlob(request, request.blob);
    if (resumableFrom !== Infinity) {
      const size = await fileSize(request.localPath);
      if (size > 0 && size >= resumableFrom) {
        const url = await resumable(request, size);
        if (url !== null) return url;
      }
    }
    return oneShot(request, await readFile(request.localPath));
  };
}
