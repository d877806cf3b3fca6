/**
 * The runtime's own tables (operation queue, sync state, uploads, conflicts, scope subscriptions;
 * names and columns in contract/columns.ts): schemas the generated app schema includes, and the Model classes the
 * database registers for them. The models use no decorators, so they work
 * under any compiler settings; they read columns through `_getRaw`.
 */
import { Model, tableSchema } from '@nozbe/watermelondb';
import type { TableSchema } from '@nozbe/watermelondb';

import { RECONCILE_MARK, type ScopeStatus } from '../../contract/scopes.js';

import {
  CONFLICTS_TABLE,
  OPERATION_QUEUE_TABLE,
  RUNTIME_TABLES,
  SYNC_SCOPES_TABLE,
  SYNC_STATE_TABLE,
  UPLOADS_TABLE,
  type RuntimeTableSpec,
} from '../../contract/columns.js';

export { RUNTIME_TABLES };

export type OperationKind = 'insert' | 'update' | 'delete';
export type OperationStatus = 'pending' | 'sending' | 'failed' | 'success';

const schemaOf = (spec: RuntimeTableSpec): TableSchema => tableSchema({ name: spec.name, columns: spec.columns.map((c) => ({ ...c })) });

export const operationQueueTable: TableSchema = schemaOf(OPERATION_QUEUE_TABLE);
export const syncStateTable: TableSchema = schemaOf(SYNC_STATE_TABLE);
export const uploadsTable: TableSchema = schemaOf(UPLOADS_TABLE);
export const conflictsTable: TableSchema = schemaOf(CONFLICTS_TABLE);
export const syncScopesTable: TableSchema = schemaOf(SYNC_SCOPES_TABLE);

/** Every runtime table, for `appSchema({ tables: [...entityTables, ...runtimeTables] })`. */
export const runtimeTables: TableSchema[] = [operationQueueTable, syncStateTable, uploadsTable, conflictsTable, syncScopesTable];

/** One queued local change. */
export class OperationRecord extends Model {
  static override table = RUNTIME_TABLES.operationQueue;
  get entity(): string {
    return this._getRaw('entity') as string;
  }
  get operation(): OperationKind {
    return this._getRaw('operation') as OperationKind;
  }
  get entityId(): string {
    return this._getRaw('entity_id') as string;
  }
  get payload(): Record<string, unknown> {
    try {
      return JSON.parse(this._getRaw('payload') as string) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  get status(): OperationStatus {
    return this._getRaw('status') as OperationStatus;
  }
  get attempts(): number {
    return this._getRaw('attempts') as number;
  }
  get lastError(): string | null {
    return (this._getRaw('last_error') as string | null) ?? null;
  }
  get baseVersion(): number | null {
    return (this._getRaw('base_version') as number | null) ?? null;
  }
  /** Base values of the changed fields (update operations), from the `snapshot` column. */
  get base(): Record<string, unknown> | null {
    const text = this._getRaw('snapshot');
    if (typeof text !== 'string') return null;
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  get conflictId(): string | null {
    return (this._getRaw('conflict_id') as string | null) ?? null;
  }
  // Not named createdAt / updatedAt: WatermelonDB would then overwrite those columns on every write.
  /** When the operation was queued (`created_at`, epoch ms). */
  get queuedAt(): number {
    return this._getRaw('created_at') as number;
  }
  /** Device time of the latest change folded into the operation (`updated_at`, epoch ms); pushed as `updatedAt`. */
  get editedAt(): number {
    return this._getRaw('updated_at') as number;
  }
}

/** Pull position per entity stream: the tenant-wide one (scope null) or one per subscribed scope root. */
export class SyncStateRecord extends Model {
  static override table = RUNTIME_TABLES.syncState;
  get entity(): string {
    return this._getRaw('entity') as string;
  }
  /** The scope root's server id of a scoped entity's stream; null for the tenant-wide stream. */
  get scope(): string | null {
    return (this._getRaw('scope') as string | null) ?? null;
  }
  get lastSyncAt(): string | null {
    return (this._getRaw('last_sync_at') as string | null) ?? null;
  }
  get cursor(): string | null {
    return (this._getRaw('cursor') as string | null) ?? null;
  }
  /** The stream is being reloaded: the next pass drops what it does not bring (see push.ts, rewinds). */
  get reconcile(): boolean {
    return this._getRaw('server_version_hash') === RECONCILE_MARK;
  }
}

/** A file waiting to be uploaded for a `@sync.media` field. */
export class UploadRecord extends Model {
  static override table = RUNTIME_TABLES.uploads;
  get localPath(): string {
    return this._getRaw('local_path') as string;
  }
  get remoteUrl(): string | null {
    return (this._getRaw('remote_url') as string | null) ?? null;
  }
  get status(): string {
    return this._getRaw('status') as string;
  }
  get attempts(): number {
    return this._getRaw('attempts') as number;
  }
}

/** A conflict the server reported for a pushed change. */
export class ConflictRecord extends Model {
  static override table = RUNTIME_TABLES.conflicts;
  get entity(): string {
    return this._getRaw('entity') as string;
  }
  get entityId(): string {
    return this._getRaw('entity_id') as string;
  }
  get resolved(): boolean {
    return this._getRaw('resolved') === true;
  }
}

/** A scope root the device subscribed to (partial sync; see scopes.ts). */
export class SyncScopeRecord extends Model {
  static override table = RUNTIME_TABLES.syncScopes;
  /** The scope root's entity name, e.g. `Project`. */
  get entity(): string {
    return this._getRaw('entity') as string;
  }
  /** The root record's local id. */
  get recordId(): string {
    return this._getRaw('record_id') as string;
  }
  /** The root record's server id, once known (a root created offline has none until pushed). */
  get serverId(): string | null {
    return (this._getRaw('server_id') as string | null) ?? null;
  }
  get status(): ScopeStatus {
    return this._getRaw('status') as ScopeStatus;
  }
  /** When the subscription was made (`created_at`, epoch ms). */
  get subscribedAt(): number {
    return this._getRaw('created_at') as number;
  }
}

/** Model classes for the runtime tables, for `new Database({ modelClasses: [...models, ...runtimeModelClasses] })`. */
export const runtimeModelClasses = [OperationRecord, SyncStateRecord, UploadRecord, ConflictRecord, SyncScopeRecord];
