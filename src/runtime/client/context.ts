/**
 * What a typed service and the upload queue need of the client: its database,
 * queue, transport and sync calls. TrackhubClient implements it; the services and
 * the upload queue depend on this interface, not on the client class, so
 * client.ts -> uploads.ts -> service.ts has no way back.
 */
import type { Database } from '@nozbe/watermelondb';

import type { BlobStore } from './blobs.js';
import type { EntityDescriptor } from './descriptors.js';
import type { ConflictInfo, ConflictResolution, SyncEngine, SyncReport } from './engine.js';

/** The database and queue of local writes (see local-writes.ts). */
export interface LocalWriteContext {
  readonly database: Database;
  readonly engine: Pick<SyncEngine, 'queue'>;
  /** Throws once the client was closed or signed out. */
  assertOpen(): void;
  /** Every synced entity, when known: a delete follows the relations that point at its entity (local-delete.ts). */
  readonly entities?: readonly EntityDescriptor[];
}

/** What the upload queue uses. */
export interface UploadContext extends LocalWriteContext {
  readonly blobs: BlobStore;
  entity(name: string): EntityDescriptor;
}

/** What a typed OfflineFirst<Entity>Service uses. */
export interface ClientContext extends UploadContext {
  /** Every synced entity (a delete follows the relations that point at its entity). */
  readonly entities: readonly EntityDescriptor[];
  readonly engine: Pick<SyncEngine, 'queue' | 'translateForServer' | 'applyServerItems'>;
  readonly transport: { request<T>(query: string, variables?: Record<string, unknown>): Promise<T> };
  readonly uploads: { enqueue(entity: string, entityId: string, field: string, file: string | Blob, meta?: unknown): Promise<string> };
  syncAll(): Promise<SyncReport>;
  syncPush(entities?: string[]): Promise<SyncReport>;
  syncPull(entities?: string[]): Promise<SyncReport>;
  forceSyncFromServer(entities?: string[], options?: { discardPending?: boolean }): Promise<SyncReport>;
  forcePushLocal(entities?: string[]): Promise<SyncReport>;
  listConflicts(filter?: { entity?: string; resolved?: boolean }): Promise<ConflictInfo[]>;
  resolveConflict(conflictId: string, resolution: ConflictResolution): Promise<void>;
  queueSize(entity?: string): Promise<number>;
}
