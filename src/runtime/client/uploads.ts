/**
 * Upload queue for `@sync.media` fields, in the `uploads` table: a file added
 * offline waits there; `process()` (run by the SyncWorker before each sync
 * when an uploader is configured) uploads it through your `Uploader`, writes
 * the remote URL into the record's field as a normal local update, and so the
 * change reaches the server with the next sync. The field never holds the local
 * path: until the upload is done it keeps its previous value (null or an older URL).
 *
 * A failed upload is retried by later runs after an exponential backoff
 * (per upload, from its attempt count and last attempt time). An upload the
 * server refuses for good (`UploadRejectedError`: too large, wrong type) or whose
 * file is gone is `rejected` and not retried (see `retry()`).
 */
import { Q } from '@nozbe/watermelondb';
import type { Collection } from '@nozbe/watermelondb';

import { blobKeyOf, blobPath, isBlob } from './blobs.js';
import type { UploadContext } from './context.js';
import { newId } from './ids.js';
import { RecordNotFoundError, updateAndEnqueue, updateValues } from './local-writes.js';
import { RUNTIME_TABLES, UploadRecord } from './tables.js';

export interface UploadRequest {
  uploadId: string;
  entity: string;
  /** Local id of the record. */
  entityId: string;
  field: string;
  /** A file path, or `trackhub-blob:<key>/<name>` for a Blob / File kept in the client's BlobStore. */
  localPath: string;
  meta: unknown;
  /** The bytes, when a Blob / File was attached (read it with `blob.slice`); absent for a file path. */
  blob?: Blob;
  /**
   * What an earlier attempt saved with `saveResume` (e.g. the server's upload session), or null.
   * Kept in the row's `meta` JSON (under `$resume`) so it survives an app restart; cleared once
   * the upload is done or rejected.
   */
  resume?: unknown;
  /** Saves resume state for the next attempt (null clears it). Uploaders that cannot resume ignore it. */
  saveResume?: (state: unknown) => Promise<void>;
}

/** Uploads one file and resolves with its remote URL (throw to retry later). */
export type Uploader = (request: UploadRequest) => Promise<string>;

/** `failed`: will be retried after a backoff; `rejected`: refused for good, not retried. */
export type UploadStatus = 'pending' | 'uploading' | 'failed' | 'rejected' | 'done';

export interface UploadRetryOptions {
  /** Wait after the first failure (default 2 000 ms), doubled per further failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest wait between attempts (default 300 000 ms). */
  maxBackoffMs?: number;
  /** Clock (default Date.now; inject one in tests). */
  now?: () => number;
}

export interface UploadInfo extends UploadRequest {
  status: UploadStatus;
  remoteUrl: string | null;
  attempts: number;
  lastError: string | null;
}

export interface UploadStats {
  uploaded: number;
  /** Attempts that failed (retried later) or were rejected. */
  failed: number;
  /** Failed uploads left alone this run because their backoff has not elapsed. */
  waiting: number;
}

/** An error the same upload would get again: the queue does not retry it. */
function permanent(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return e?.name === 'UploadRejectedError' || e?.code === 'ENOENT';
}

function get(record: UploadRecord, column: string): unknown {
  return (record._raw as unknown as Record<string, unknown>)[column];
}

/** Key of the uploader's resume state inside the row's `meta` JSON (beside the caller's own meta). */
const RESUME_KEY = '$resume';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The caller's meta and the uploader's resume state, from the `meta` column. */
function readMeta(record: UploadRecord): { meta: unknown; resume: unknown } {
  const raw = get(record, 'meta');
  if (typeof raw !== 'string') return { meta: null, resume: null };
  const parsed = JSON.parse(raw) as unknown;
  if (!isPlainObject(parsed) || !(RESUME_KEY in parsed)) return { meta: parsed, resume: null };
  const { [RESUME_KEY]: resume, ...rest } = parsed;
  // Only resume state was stored: the caller's meta was null.
  return { meta: Object.keys(rest).length === 0 ? null : rest, resume: resume ?? null };
}

/**
 * The `meta` column with the resume state set (or cleared with null). The caller's meta
 * must be a plain object or null to hold it (any other meta: the state is not saved).
 */
function writeMeta(meta: unknown, resume: unknown): string | null | undefined {
  if (resume === null || resume === undefined) return meta === null ? null : JSON.stringify(meta);
  if (meta !== null && !isPlainObject(meta)) return undefined;
  return JSON.stringify({ ...(meta ?? {}), [RESUME_KEY]: resume });
}

export class UploadQueue {
  /** Uploads done / attempts failed / uploads rejected since the client started. */
  readonly metrics = { uploaded: 0, failed: 0, rejected: 0 };
  private running: Promise<UploadStats> | null = null;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(
    readonly client: UploadContext,
    private readonly uploader: Uploader | null,
    retry: UploadRetryOptions = {},
  ) {
    this.initialBackoffMs = retry.initialBackoffMs ?? 2_000;
    this.maxBackoffMs = retry.maxBackoffMs ?? 300_000;
    this.now = retry.now ?? Date.now;
  }

  /** Wait before the next attempt after `attempts` failed ones. */
  backoffFor(attempts: number): number {
    if (attempts <= 0) return 0;
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (attempts - 1));
  }

  get enabled(): boolean {
    return this.uploader !== null;
  }

  private get collection(): Collection<UploadRecord> {
    return this.client.database.get<UploadRecord>(RUNTIME_TABLES.uploads);
  }

  /**
   * Queues a local file (a path) or a Blob / File (kept in the client's BlobStore until
   * uploaded; its `type` is the default `meta.contentType`) for a media field of a record.
   */
  async enqueue(entity: string, entityId: string, field: string, file: string | Blob, meta?: unknown): Promise<string> {
    const descriptor = this.client.entity(entity);
    const target = descriptor.fields.find((f) => f.name === field);
    if (!target || target.access !== 'media') throw new Error(`${entity}.${field} is not a @sync.media field`);
    const id = newId();
    const now = Date.now();
    let localPath: string;
    if (typeof file === 'string') localPath = file;
    else if (isBlob(file)) {
      const name = (file as { name?: unknown }).name;
      localPath = blobPath(id, typeof name === 'string' ? name : 'blob');
      if (meta === undefined && file.type) meta = { contentType: file.type };
      await this.client.blobs.put(id, file);
    } else {
      throw new Error(`attach a file path or a Blob / File to ${entity}.${field}, not ${typeof file}`);
    }
    await this.client.database.write(async () => {
      await this.collection.create((u) => {
        u._raw.id = id;
        u._setRaw('entity', entity);
        u._setRaw('entity_id', entityId);
        u._setRaw('field', field);
        u._setRaw('local_path', localPath);
        u._setRaw('remote_url', null);
        u._setRaw('status', 'pending');
        u._setRaw('attempts', 0);
        u._setRaw('last_error', null);
        u._setRaw('meta', meta === undefined ? null : JSON.stringify(meta));
        u._setRaw('created_at', now);
        u._setRaw('updated_at', now);
      });
    }, 'trackhub:enqueueUpload');
    return id;
  }

  async list(filter: { status?: UploadStatus; entity?: string } = {}): Promise<UploadInfo[]> {
    const clauses = [];
    if (filter.status) clauses.push(Q.where('status', filter.status));
    if (filter.entity) clauses.push(Q.where('entity', filter.entity));
    const rows = await this.collection.query(...clauses).fetch();
    return rows
      .map((row) => ({
        uploadId: row.id,
        entity: get(row, 'entity') as string,
        entityId: get(row, 'entity_id') as string,
        field: get(row, 'field') as string,
        localPath: row.localPath,
        meta: readMeta(row).meta,
        status: row.status as UploadStatus,
        remoteUrl: row.remoteUrl,
        attempts: row.attempts,
        lastError: (get(row, 'last_error') as string | null) ?? null,
      }))
      .sort((a, b) => (a.uploadId < b.uploadId ? -1 : 1));
  }

  /** Number of uploads still to do (pending, uploading or failed; rejected and done ones excluded). */
  pending(): Promise<number> {
    return this.collection.query(Q.where('status', Q.oneOf(['pending', 'uploading', 'failed']))).fetchCount();
  }

  /** Number of uploads refused for good. */
  rejected(): Promise<number> {
    return this.collection.query(Q.where('status', 'rejected')).fetchCount();
  }

  /**
   * Uploads every waiting file once (one run at a time). Failed uploads whose
   * backoff has not elapsed are skipped unless `force`.
   */
  process(options: { force?: boolean } = {}): Promise<UploadStats> {
    if (!this.running) {
      this.running = this.processAll(options.force === true).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  /** Puts a failed or rejected upload back to pending (e.g. after the server's limits changed). */
  async retry(uploadId: string): Promise<void> {
    const row = await this.collection.find(uploadId);
    if (row.status === 'done') return;
    await this.setStatus(row, { status: 'pending' });
  }

  private async setStatus(row: UploadRecord, changes: Record<string, string | number | null>): Promise<void> {
    await this.client.database.write(async () => {
      await row.update((u) => {
        for (const [column, value] of Object.entries(changes)) u._setRaw(column, value);
        u._setRaw('updated_at', this.now());
      });
    }, 'trackhub:uploadStatus');
  }

  private async processAll(force: boolean): Promise<UploadStats> {
    const stats: UploadStats = { uploaded: 0, failed: 0, waiting: 0 };
    if (!this.uploader) return stats;
    // `uploading` rows are leftovers of an interrupted run: try them again.
    const rows = (
      await this.collection.query(Q.where('status', Q.oneOf(['pending', 'failed', 'uploading']))).fetch()
    ).sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const row of rows) {
      if (!force && row.status === 'failed') {
        const last = get(row, 'updated_at') as number;
        if (this.now() < last + this.backoffFor(row.attempts)) {
          stats.waiting += 1;
          continue;
        }
      }
      const { meta, resume } = readMeta(row);
      const blobKey = blobKeyOf(row.localPath);
      const blob = blobKey === null ? null : await this.client.blobs.get(blobKey);
      const request: UploadRequest = {
        uploadId: row.id,
        entity: get(row, 'entity') as string,
        entityId: get(row, 'entity_id') as string,
        field: get(row, 'field') as string,
        localPath: row.localPath,
        meta,
        ...(blob ? { blob } : {}),
        resume,
        saveResume: async (state) => {
          const column = writeMeta(meta, state);
          if (column !== undefined) await this.setStatus(row, { meta: column });
        },
      };
      await this.setStatus(row, { status: 'uploading' });
      try {
        if (blobKey !== null && !blob) throw Object.assign(new Error(`the attached blob of upload ${row.id} is gone`), { code: 'ENOENT' });
        const url = await this.uploader(request);
        const descriptor = this.client.entity(request.entity);
        try {
          await updateAndEnqueue(this.client, descriptor, request.entityId, updateValues(descriptor, { [request.field]: url }));
        } catch (error) {
          // The record is gone: nothing to attach the file to.
          if (!(error instanceof RecordNotFoundError)) throw error;
        }
        await this.setStatus(row, {
          status: 'done',
          remote_url: url,
          last_error: null,
          attempts: row.attempts + 1,
          meta: writeMeta(meta, null) ?? null,
        });
        stats.uploaded += 1;
        this.metrics.uploaded += 1;
        if (blobKey !== null) await this.client.blobs.delete(blobKey);
      } catch (error) {
        const rejected = permanent(error);
        await this.setStatus(row, {
          status: rejected ? 'rejected' : 'failed',
          attempts: row.attempts + 1,
          last_error: String((error as Error)?.message ?? error).slice(0, 2000),
          ...(rejected ? { meta: writeMeta(meta, null) ?? null } : {}),
        });
        stats.failed += 1;
        this.metrics.failed += 1;
        if (rejected) this.metrics.rejected += 1;
        if (rejected && blobKey !== null) await this.client.blobs.delete(blobKey);
      }
    }
    return stats;
  }
}
