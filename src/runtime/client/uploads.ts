/**
 * Upload queue for `@sync.media` fields, in the `uploads` table: a file added
 * offline waits there; `process()` (run by the SyncWorker before each sync
 * when an uploader is configured) uploads it through your `Uploader`, writes
 * the remote URL into the record's field as a normal local update, and so the
 * change reaches the server with the next sync.
 */
import { Q } from '@nozbe/watermelondb';
import type { Collection } from '@nozbe/watermelondb';

import type { TrackhubClient } from './client.js';
import type { SyncedRecord } from './descriptors.js';
import { newId } from './ids.js';
import { OfflineFirstService, RecordNotFoundError } from './service.js';
import { RUNTIME_TABLES, UploadRecord } from './tables.js';

export interface UploadRequest {
  uploadId: string;
  entity: string;
  /** Local id of the record. */
  entityId: string;
  field: string;
  localPath: string;
  meta: unknown;
}

/** Uploads one file and resolves with its remote URL (throw to retry later). */
export type Uploader = (request: UploadRequest) => Promise<string>;

export type UploadStatus = 'pending' | 'uploading' | 'failed' | 'done';

export interface UploadInfo extends UploadRequest {
  status: UploadStatus;
  remoteUrl: string | null;
  attempts: number;
  lastError: string | null;
}

export interface UploadStats {
  uploaded: number;
  failed: number;
}

function get(record: UploadRecord, column: string): unknown {
  return (record._raw as unknown as Record<string, unknown>)[column];
}

export class UploadQueue {
  /** Uploads attempted / succeeded / failed since the client started. */
  readonly metrics = { uploaded: 0, failed: 0 };
  private running: Promise<UploadStats> | null = null;

  constructor(
    readonly client: TrackhubClient,
    private readonly uploader: Uploader | null,
  ) {}

  get enabled(): boolean {
    return this.uploader !== null;
  }

  private get collection(): Collection<UploadRecord> {
    return this.client.database.get<UploadRecord>(RUNTIME_TABLES.uploads);
  }

  /** Queues a local file for a media field of a record. */
  async enqueue(entity: string, entityId: string, field: string, localPath: string, meta?: unknown): Promise<string> {
    const descriptor = this.client.entity(entity);
    const target = descriptor.fields.find((f) => f.name === field);
    if (!target || target.access !== 'media') throw new Error(`${entity}.${field} is not a @sync.media field`);
    const id = newId();
    const now = Date.now();
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
        meta: typeof get(row, 'meta') === 'string' ? (JSON.parse(get(row, 'meta') as string) as unknown) : null,
        status: row.status as UploadStatus,
        remoteUrl: row.remoteUrl,
        attempts: row.attempts,
        lastError: (get(row, 'last_error') as string | null) ?? null,
      }))
      .sort((a, b) => (a.uploadId < b.uploadId ? -1 : 1));
  }

  /** Number of uploads not done yet. */
  pending(): Promise<number> {
    return this.collection.query(Q.where('status', Q.notEq('done'))).fetchCount();
  }

  /** Uploads every waiting file once (one run at a time). */
  process(): Promise<UploadStats> {
    if (!this.running) {
      this.running = this.processAll().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async setStatus(row: UploadRecord, changes: Record<string, string | number | null>): Promise<void> {
    await this.client.database.write(async () => {
      await row.update((u) => {
        for (const [column, value] of Object.entries(changes)) u._setRaw(column, value);
        u._setRaw('updated_at', Date.now());
      });
    }, 'trackhub:uploadStatus');
  }

  private async processAll(): Promise<UploadStats> {
    const stats: UploadStats = { uploaded: 0, failed: 0 };
    if (!this.uploader) return stats;
    // `uploading` rows are leftovers of an interrupted run: try them again.
    const rows = (
      await this.collection.query(Q.where('status', Q.oneOf(['pending', 'failed', 'uploading']))).fetch()
    ).sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const row of rows) {
      const request: UploadRequest = {
        uploadId: row.id,
        entity: get(row, 'entity') as string,
        entityId: get(row, 'entity_id') as string,
        field: get(row, 'field') as string,
        localPath: row.localPath,
        meta: typeof get(row, 'meta') === 'string' ? (JSON.parse(get(row, 'meta') as string) as unknown) : null,
      };
      await this.setStatus(row, { status: 'uploading' });
      try {
        const url = await this.uploader(request);
        const service = new OfflineFirstService<SyncedRecord, object, Record<string, unknown>>(
          this.client,
          this.client.entity(request.entity),
        );
        try {
          await service.update(request.entityId, { [request.field]: url });
        } catch (error) {
          // The record is gone: nothing to attach the file to.
          if (!(error instanceof RecordNotFoundError)) throw error;
        }
        await this.setStatus(row, { status: 'done', remote_url: url, last_error: null, attempts: row.attempts + 1 });
        stats.uploaded += 1;
        this.metrics.uploaded += 1;
      } catch (error) {
        await this.setStatus(row, {
          status: 'failed',
          attempts: row.attempts + 1,
          last_error: String((error as Error)?.message ?? error).slice(0, 2000),
        });
        stats.failed += 1;
        this.metrics.failed += 1;
      }
    }
    return stats;
  }
}
