/**
 * The per-tenant client: database, transport, operation queue and sync engine.
 * Generated code subclasses it to expose one typed service per entity.
 */
import type { AppSchema, Database } from '@nozbe/watermelondb';
import type { SchemaMigrations } from '@nozbe/watermelondb/Schema/migrations/index.js';

import { createTenantDatabase } from './database.js';
import type { AdapterFactoryOptions, ModelClass } from './database.js';
import type { EntityDescriptor } from './descriptors.js';
import { SyncEngine } from './engine.js';
import type { ConflictInfo, ConflictPolicy, ConflictResolution, SyncMetrics, SyncReport } from './engine.js';
import { installUuidV7Ids } from './ids.js';
import type { OperationQueue } from './queue.js';
import { GraphQLTransport } from './transport.js';
import { UploadQueue } from './uploads.js';
import type { Uploader } from './uploads.js';
import type { FetchLike } from './transport.js';
import type { DatabaseAdapter } from '@nozbe/watermelondb';

export interface TrackhubConnectionOptions {
  /** Tenant the device works in; selects the database `trackhub_db_{tenantId}`. */
  tenantId: string;
  /** GraphQL endpoint. */
  url: string;
  /** Bearer token (e.g. `dev:<tenantId>:<userId>` for the example server). */
  token?: string;
  /** Token provider, called before every request; wins over `token`. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Injectable fetch (tests, fault injection); defaults to the global one. */
  fetch?: FetchLike;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Node: directory for `trackhub_db_{tenantId}.db`, or `':memory:'`. Omit on React Native. */
  dbDir?: string;
  /** A database you built yourself (its schema must include the runtime tables). */
  database?: Database;
  /** Custom adapter factory (React Native JSI, LokiJS...). */
  adapter?: (options: AdapterFactoryOptions) => DatabaseAdapter;
  /** Items per syncPush call (default 100). */
  pushBatchSize?: number;
  /** Items per syncPull page (default 1000). */
  pullLimit?: number;
  onConflict?: ConflictPolicy;
  /** Silence WatermelonDB's setup logs (default true). */
  quiet?: boolean;
  /** Uploads files queued for `@sync.media` fields (see UploadQueue). */
  uploader?: Uploader;
}

export interface TrackhubClientOptions extends TrackhubConnectionOptions {
  schema: AppSchema;
  migrations?: SchemaMigrations;
  modelClasses: ModelClass[];
  /** Entity descriptors in dependency order (parents first). */
  entities: EntityDescriptor[];
}

export class TrackhubClient {
  readonly tenantId: string;
  readonly database: Database;
  readonly transport: GraphQLTransport;
  readonly engine: SyncEngine;
  readonly entities: EntityDescriptor[];
  readonly uploads: UploadQueue;
  private closed = false;

  constructor(options: TrackhubClientOptions) {
    installUuidV7Ids();
    this.tenantId = options.tenantId;
    this.entities = options.entities;
    this.database =
      options.database ??
      createTenantDatabase({
        tenantId: options.tenantId,
        ...(options.dbDir !== undefined ? { dbDir: options.dbDir } : {}),
        schema: options.schema,
        ...(options.migrations ? { migrations: options.migrations } : {}),
        modelClasses: options.modelClasses,
        ...(options.adapter ? { adapter: options.adapter } : {}),
        ...(options.quiet !== undefined ? { quiet: options.quiet } : {}),
      });
    this.transport = new GraphQLTransport({
      url: options.url,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.getToken ? { getToken: options.getToken } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    this.engine = new SyncEngine(this.database, this.transport, options.entities, {
      ...(options.pushBatchSize !== undefined ? { pushBatchSize: options.pushBatchSize } : {}),
      ...(options.pullLimit !== undefined ? { pullLimit: options.pullLimit } : {}),
      ...(options.onConflict ? { onConflict: options.onConflict } : {}),
    });
    this.uploads = new UploadQueue(this, options.uploader ?? null);
  }

  /** Whether an uploader was configured (the SyncWorker then uploads before syncing). */
  get hasUploader(): boolean {
    return this.uploads.enabled;
  }

  get queue(): OperationQueue {
    return this.engine.queue;
  }

  get isSyncing(): boolean {
    return this.engine.isSyncing;
  }

  entity(name: string): EntityDescriptor {
    return this.engine.entity(name);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('TrackhubClient is closed');
  }

  /** Push all entities, then pull all, in dependency order. A call while a sync runs joins it. */
  syncAll(): Promise<SyncReport> {
    this.ensureOpen();
    return this.engine.syncAll();
  }

  syncPush(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.engine.syncPush(entities);
  }

  syncPull(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.engine.syncPull(entities);
  }

  forceSyncFromServer(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.engine.forceSyncFromServer(entities);
  }

  forcePushLocal(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.engine.forcePushLocal(entities);
  }

  listConflicts(filter?: { entity?: string; resolved?: boolean }): Promise<ConflictInfo[]> {
    return this.engine.listConflicts(filter);
  }

  resolveConflict(conflictId: string, resolution: ConflictResolution): Promise<void> {
    return this.engine.resolveConflict(conflictId, resolution);
  }

  /** Operations waiting for the server (pending, sending or failed). */
  queueSize(entity?: string): Promise<number> {
    return this.engine.queue.size(entity);
  }

  async metrics(): Promise<
    SyncMetrics & { queueSize: number; uploadsPending: number; uploadsDone: number; uploadsFailed: number }
  > {
    return {
      ...this.engine.metrics,
      queueSize: await this.queueSize(),
      uploadsPending: await this.uploads.pending(),
      uploadsDone: this.uploads.metrics.uploaded,
      uploadsFailed: this.uploads.metrics.failed,
    };
  }

  /** Waits for a running sync and refuses new ones. (WatermelonDB has no public close for its adapters.) */
  async close(): Promise<void> {
    this.closed = true;
    await this.engine.lock.run('close', async () => undefined);
  }
}
