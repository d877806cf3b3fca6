/**
 * The per-tenant client: database, transport, operation queue and sync engine.
 * Generated code subclasses it to expose one typed service per entity.
 */
import type { AppSchema, Database } from '@nozbe/watermelondb';
import type { SchemaMigrations } from '@nozbe/watermelondb/Schema/migrations/index.js';

import { AuthGate, type AuthState, type AuthStateListener } from './auth-state.js';
import { defaultBlobStore } from './blobs.js';
import { deleteTenantKeys, type EncryptionOptions } from './encryption.js';
import { cipherSupport } from './cipher-support.js';
import type { BlobStore } from './blobs.js';
import { createTenantDatabase, databaseFileSize, tenantDatabaseName, tenantDbName } from './database.js';
import type { AdapterFactoryOptions, ModelClass } from './database.js';
import type { EntityDescriptor } from './descriptors.js';
import { SyncEngine } from './engine.js';
import type { ConflictInfo, ConflictResolution, SyncEngineOptions, SyncMetrics, SyncReport } from './engine.js';
import { installUuidV7Ids } from './ids.js';
import type { OperationQueue } from './queue.js';
import type { OperationRecord } from './tables.js';
import { CLIENT_METRICS_HEADER, deviceReport, failedOperations, lastPersistedSync, type DeviceMetricsReport } from './report.js';
import { AuthRequiredError, GraphQLTransport } from './transport.js';
import {
  closeNodeSqlite,
  deleteIndexedDb,
  removeFiles,
  sqliteFilesOf,
  UnsyncedChangesError,
  wipeDatabase,
  type SignOutOptions,
  type SignOutReport,
} from './sign-out.js';
import { UploadQueue } from './uploads.js';
import type { Uploader, UploadRetryOptions } from './uploads.js';
import type { FetchLike } from './transport.js';
import type { DatabaseAdapter } from '@nozbe/watermelondb';
import { ScopeSubscriptions } from './scopes.js';
import { checkScopes } from './sync/scopes.js';

/**
 * How the generated `createClient` connects a tenant. The sync engine's options
 * (`pushBatchSize`, `pullLimit`, `onConflict`, `maxItemAttempts`, `hooks`,
 * `onHookError`) are documented on SyncEngineOptions; the generated `createClient`
 * passes the user-owned `client/hooks/<entity>.hooks.ts` files as `hooks`, and
 * hooks given here win over those.
 */
export interface TrackhubConnectionOptions extends SyncEngineOptions {
  /** Tenant the device works in; selects the database `trackhub_db_{tenantId}`. */
  tenantId: string;
  /** GraphQL endpoint. */
  url: string;
  /** Bearer token (e.g. `dev:<tenantId>:<userId>` for the example server). */
  token?: string;
  /** Token provider, called before every request; wins over `token`. Return the newest token you have. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once when the server answers UNAUTHENTICATED (the token expired, e.g.
   * after a long time offline); the request is retried with the token it
   * returns. When that fails, sync stops in the `authRequired` state (the
   * SyncWorker pauses, queued changes wait) until `setToken` gives a new token.
   */
  refreshToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Called when the auth state changes (`authRequired`: ask the user to sign in again). */
  onAuthStateChange?: AuthStateListener;
  /** Injectable fetch (tests, fault injection); defaults to the global one. */
  fetch?: FetchLike;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Node: directory for `trackhub_db_{tenantId}.db`, or `':memory:'`. Omit on React Native. */
  dbDir?: string;
  /**
   * Open the tenant database encrypted (Node: SQLCipher format): pass what
   * `await prepareEncryption({ keyStore, tenantId, dbDir })` resolves. See docs/encryption.md.
   */
  encryption?: EncryptionOptions;
  /** A database you built yourself (its schema must include the runtime tables). */
  database?: Database;
  /** Custom adapter factory (React Native JSI, LokiJS...). */
  adapter?: (options: AdapterFactoryOptions) => DatabaseAdapter;
  /** Silence WatermelonDB's setup logs (default true). */
  quiet?: boolean;
  /** Uploads files queued for `@sync.media` fields (see UploadQueue). */
  uploader?: Uploader;
  /**
   * Where attached Blobs / Files wait until uploaded. Default: IndexedDB
   * (`trackhub_blobs_{tenantId}`) where there is one, else memory.
   */
  blobStore?: BlobStore;
  /** Backoff between attempts of a failed upload (default 2 s doubling up to 5 min). */
  uploadRetry?: UploadRetryOptions;
  /**
   * Size of the database in bytes for `metrics().dbSizeBytes`. Default: the
   * SQLite file's size in Node (with `dbDir`); on React Native pass your own
   * (e.g. a file stat through react-native-fs).
   */
  databaseSize?: () => number | null | Promise<number | null>;
  /** Called with a metrics snapshot after every sync run (success or failure). Errors it throws are ignored. */
  onMetrics?: (metrics: ClientMetrics) => void;
  /**
   * Send a small metrics report (queue size, failed operations, pending uploads,
   * database size, seconds since the last successful sync; counts only, no ids
   * or data) with the first request of every sync run, as the
   * `x-trackhub-client-metrics` header. Default false.
   */
  reportMetrics?: boolean;
}

export type ClientMetrics = SyncMetrics & {
  queueSize: number;
  uploadsPending: number;
  uploadsDone: number;
  /** Failed upload attempts since the client started (retried ones and rejected ones). */
  uploadsFailed: number;
  /** Uploads the server refused for good (too large, wrong type), in the uploads table. */
  uploadsRejected: number;
  /** Bytes the device database takes, or null when unknown. */
  dbSizeBytes: number | null;
  /** The server refused the credentials and no fresh token could be had (sync is paused). */
  authRequired: boolean;
};

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
  readonly blobs: BlobStore;
  /** Whether the credentials work (see `authState`, `setToken`). */
  readonly auth = new AuthGate();
  /** Partial sync: the scope roots this device subscribes to (scopes.ts). */
  readonly scopes: ScopeSubscriptions;
  private closed = false;
  private signedOut = false;
  private readonly databaseSize: (() => number | null | Promise<number | null>) | null;
  /** The SQLite file's name in Node (with `dbDir`), else null. */
  private readonly dbFile: string | null;
  /** Whether the client built its own database (sign-out may then delete its files). */
  private readonly ownsDatabase: boolean;
  private readonly encryption: EncryptionOptions | null;
  private readonly onMetrics: ((metrics: ClientMetrics) => void) | null;
  private readonly reportMetrics: boolean;

  constructor(options: TrackhubClientOptions) {
    installUuidV7Ids();
    this.tenantId = options.tenantId;
    this.entities = options.entities;
    this.encryption = options.encryption ?? null;
    if (this.encryption) {
      const file = options.dbDir !== undefined && !options.database && !options.adapter ? tenantDbName(options.tenantId, options.dbDir) : null;
      if (!file?.endsWith('.db')) {
        throw new Error('encryption: this client opens its own SQLite file in Node (give dbDir, no adapter or database); on React Native see docs/encryption.md');
      }
      cipherSupport().assertOpensWith(file, this.encryption.key);
      cipherSupport().register(file, this.encryption.key);
    }
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
      ...(options.refreshToken ? { refreshToken: options.refreshToken } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    this.engine = new SyncEngine(this.database, this.transport, options.entities, {
      ...(options.pushBatchSize !== undefined ? { pushBatchSize: options.pushBatchSize } : {}),
      ...(options.pullLimit !== undefined ? { pullLimit: options.pullLimit } : {}),
      ...(options.onConflict ? { onConflict: options.onConflict } : {}),
      ...(options.maxItemAttempts !== undefined ? { maxItemAttempts: options.maxItemAttempts } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.onHookError ? { onHookError: options.onHookError } : {}),
    });
    checkScopes(options.entities);
    this.scopes = new ScopeSubscriptions(this.engine);
    this.blobs = options.blobStore ?? defaultBlobStore(options.tenantId);
    this.uploads = new UploadQueue(this, options.uploader ?? null, options.uploadRetry);
    const dbName =
      options.database || options.adapter || options.dbDir === undefined
        ? null
        : tenantDbName(options.tenantId, options.dbDir);
    this.databaseSize = options.databaseSize ?? (dbName ? () => databaseFileSize(dbName) : null);
    this.dbFile = dbName;
    this.ownsDatabase = !options.database;
    this.onMetrics = options.onMetrics ?? null;
    this.reportMetrics = options.reportMetrics ?? false;
    if (options.onAuthStateChange) this.auth.subscribe(options.onAuthStateChange);
  }

  /** `ok`, or `authRequired` after the server refused the credentials and no fresh token could be had. */
  get authState(): AuthState {
    return this.auth.state;
  }

  /** A new bearer token (e.g. after the user signed in again): sync resumes with it. */
  setToken(token: string): void {
    this.transport.setToken(token);
    this.auth.restored();
  }

  /** Listens to auth state changes; returns the unsubscribe function. */
  onAuthStateChange(listener: AuthStateListener): () => void {
    return this.auth.subscribe(listener);
  }

  /** Starts a sync job, with the device's report attached to its first request when `reportMetrics` is on. */
  private withReport<T>(run: () => Promise<T>): Promise<T> {
    if (!this.reportMetrics || this.engine.isSyncing) return run();
    return this.deviceReport().then(
      (report) => {
        this.transport.sendOnce({ [CLIENT_METRICS_HEADER]: JSON.stringify(report) });
        return run();
      },
      () => run(),
    );
  }

  /** What `reportMetrics` sends to the server. */
  async deviceReport(): Promise<DeviceMetricsReport> {
    const metrics = await this.metrics();
    return deviceReport(metrics, await failedOperations(this.database), await lastPersistedSync(this.database));
  }

  /** Runs a sync job, then tracks the auth state and reports metrics to `onMetrics`. */
  private reported<T>(job: Promise<T>): Promise<T> {
    job.then(
      () => this.auth.restored(),
      (error: unknown) => {
        if (error instanceof AuthRequiredError) this.auth.required(error);
      },
    );
    if (!this.onMetrics) return job;
    const emit = (): void => {
      this.metrics().then(
        (m) => {
          try {
            this.onMetrics?.(m);
          } catch {
            // a listener's error must not break sync
          }
        },
        () => undefined,
      );
    };
    job.then(emit, emit);
    return job;
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
    this.assertOpen();
  }

  /** Throws once the client was closed or signed out (its database is gone). */
  assertOpen(): void {
    if (this.closed) throw new Error(`TrackhubClient is closed${this.signedOut ? ' (signed out of this tenant: create a new client)' : ''}`);
  }

  /** Push all entities, then pull all, in dependency order. A call while a sync runs joins it. */
  syncAll(): Promise<SyncReport> {
    this.ensureOpen();
    return this.reported(this.withReport(() => this.engine.syncAll()));
  }

  syncPush(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.reported(this.withReport(() => this.engine.syncPush(entities)));
  }

  syncPull(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.reported(this.withReport(() => this.engine.syncPull(entities)));
  }

  /**
   * Reloads every record from the server. Waiting local changes are kept (and
   * pushed by the next sync) unless `discardPending: true` drops them.
   */
  forceSyncFromServer(entities?: string[], options: { discardPending?: boolean } = {}): Promise<SyncReport> {
    this.ensureOpen();
    return this.reported(this.withReport(() => this.engine.forceSyncFromServer(entities, options)));
  }

  forcePushLocal(entities?: string[]): Promise<SyncReport> {
    this.ensureOpen();
    return this.reported(this.withReport(() => this.engine.forcePushLocal(entities)));
  }

  listConflicts(filter?: { entity?: string; resolved?: boolean }): Promise<ConflictInfo[]> {
    return this.engine.listConflicts(filter);
  }

  resolveConflict(conflictId: string, resolution: ConflictResolution): Promise<void> {
    return this.engine.resolveConflict(conflictId, resolution);
  }

  /** Operations the server kept refusing, no longer sent until `retryGivenUp()`. */
  givenUp(entity?: string): Promise<OperationRecord[]> {
    return this.engine.givenUp(entity);
  }

  /** Sends given-up operations again with the next sync. Resolves with how many. */
  retryGivenUp(entity?: string): Promise<number> {
    return this.engine.retryGivenUp(entity);
  }

  /** Operations waiting for the server (pending, sending or failed). */
  queueSize(entity?: string): Promise<number> {
    return this.engine.queue.size(entity);
  }

  async metrics(): Promise<ClientMetrics> {
    let dbSizeBytes: number | null = null;
    try {
      dbSizeBytes = this.databaseSize ? await this.databaseSize() : null;
    } catch {
      dbSizeBytes = null;
    }
    return {
      ...this.engine.metrics,
      queueSize: await this.queueSize(),
      uploadsPending: await this.uploads.pending(),
      uploadsDone: this.uploads.metrics.uploaded,
      uploadsFailed: this.uploads.metrics.failed,
      uploadsRejected: await this.uploads.rejected(),
      dbSizeBytes,
      authRequired: this.auth.state === 'authRequired',
    };
  }

  /**
   * Signs out of this tenant on this device. Refused with `UnsyncedChangesError`
   * (saying how many) while changes or uploads are not synced, unless
   * `discardUnsynced: true`. Then waits for a running sync, wipes the tenant's
   * database, closes the client, and deletes the database files, the waiting
   * blobs and the browser's IndexedDB databases of the tenant. The client
   * cannot be used afterwards: create one for the next tenant.
   */
  async signOut(options: SignOutOptions = {}): Promise<SignOutReport> {
    this.ensureOpen();
    const report = await this.engine.lock.run('signOut', async () => {
      const changes = await this.queueSize();
      const uploads = await this.uploads.pending();
      if ((changes > 0 || uploads > 0) && !options.discardUnsynced) throw new UnsyncedChangesError(changes, uploads);
      // Closed first, so no service write slips in; opened again if the wipe fails (sign-out can be retried).
      this.closed = true;
      this.signedOut = true;
      try {
        await wipeDatabase(this.database);
      } catch (error) {
        this.closed = false;
        this.signedOut = false;
        throw error;
      }
      return { discarded: { changes, uploads }, removed: [] as string[] };
    });
    await this.blobs.destroy?.();
    if (this.encryption) await deleteTenantKeys(this.encryption.keyStore, this.tenantId);
    if (!this.ownsDatabase) return report;
    if (this.dbFile && this.dbFile.endsWith('.db')) {
      closeNodeSqlite(this.database);
      if (this.encryption) cipherSupport().unregister(this.dbFile);
      report.removed.push(...removeFiles(sqliteFilesOf(this.dbFile)));
    }
    // The blob store deleted its own IndexedDB database above (destroy).
    const name = tenantDatabaseName(this.tenantId);
    if (await deleteIndexedDb(name)) report.removed.push(`indexeddb:${name}`);
    await options.removeFiles?.();
    return report;
  }

  /**
   * Re-keys the encrypted tenant database with a new key (every row and queued
   * change stays), waiting for a running sync. Crash-safe: see encryption.ts.
   */
  async rotateEncryptionKey(): Promise<void> {
    this.ensureOpen();
    const encryption = this.encryption;
    if (!encryption || !this.dbFile) throw new Error('rotateEncryptionKey: this client was not opened with `encryption`');
    const file = this.dbFile;
    await this.engine.lock.run('rotateKey', async () => {
      encryption.key = await cipherSupport().rekey(this.database, encryption.keyStore, this.tenantId, file);
    });
  }

  /** Waits for a running sync and refuses new ones. (WatermelonDB has no public close for its adapters.) */
  async close(): Promise<void> {
    this.closed = true;
    await this.engine.lock.run('close', async () => undefined);
  }
}
