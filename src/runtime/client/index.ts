/**
 * trackhub-gen/runtime/client: the shared runtime generated WatermelonDB
 * clients import (operation queue, sync engine, conflict store, transport,
 * per-tenant database, typed service base class).
 */
export { TrackhubClient } from './client.js';
export type { ClientMetrics, TrackhubClientOptions, TrackhubConnectionOptions } from './client.js';
export { DeleteRestrictedError, OfflineFirstService, RecordNotFoundError, ValidationError } from './service.js';
export { GAVE_UP, SyncEngine } from './engine.js';
export { SyncWorker } from './worker.js';
export { ScopeSubscriptions } from './scopes.js';
export type { ScopeStatus, ScopeSubscription } from './scopes.js';
export { CLIENT_METRICS_HEADER, deviceReport } from './report.js';
export type { DeviceMetricsReport } from './report.js';
export { UploadQueue } from './uploads.js';
export { BLOB_PATH_PREFIX, blobKeyOf, indexedDbBlobStore, isBlob, memoryBlobStore } from './blobs.js';
export type { BlobStore } from './blobs.js';
export type { Uploader, UploadInfo, UploadRequest, UploadRetryOptions, UploadStats, UploadStatus } from './uploads.js';
export { httpUploader, UploadRejectedError, uploadsUrl } from './http-uploader.js';
export type { HttpUploaderOptions, UploadFetch } from './http-uploader.js';
export type { SyncWorkerOptions } from './worker.js';
export type {
  ConflictContext,
  ConflictDecision,
  ConflictInfo,
  ConflictPolicy,
  ConflictResolution,
  EntitySyncReport,
  SyncEngineOptions,
  SyncMetrics,
  SyncReport,
} from './engine.js';
export { OperationQueue, coalesce, foldable, foldChanges, refusedInsert } from './queue.js';
export type { CoalesceDecision, EnqueuePlan, PendingChange, QueuedChange } from './queue.js';
export { SyncLock, syncLockFor } from './lock.js';
export { AuthGate } from './auth-state.js';
export { UnsyncedChangesError } from './sign-out.js';
export { refusedMessage } from './hooks.js';
export type { BeforePushResult, ClientHooks, ClientHooksByEntity, OutgoingChange, PulledChanges } from './hooks.js';
export { deleteTenantKeys, EncryptionKeyError, fileKeyStore, keyNames, newEncryptionKey } from './encryption.js';
export type { EncryptionOptions, KeyStore } from './encryption.js';
export { prepareEncryption, setCipherSupport } from './cipher-support.js';
export type { CipherSupport } from './cipher-support.js';
export type { SignOutOptions, SignOutReport } from './sign-out.js';
export type { AuthState, AuthStateChange, AuthStateListener } from './auth-state.js';
export {
  AuthRequiredError,
  GraphQLRequestError,
  GraphQLTransport,
  isUnauthenticated,
  NetworkError,
  SYNC_PULL_QUERY,
  SYNC_PUSH_MUTATION,
} from './transport.js';
export type {
  ConflictPayload,
  FetchLike,
  GraphQLErrorShape,
  SyncPullArgs,
  SyncPullResponse,
  SyncResultItem,
  TransportOptions,
} from './transport.js';
export {
  AdapterRequiredError,
  IN_MEMORY,
  createTenantDatabase,
  databaseFileSize,
  setDefaultAdapter,
  tenantDatabaseName,
  tenantDbName,
} from './database.js';
export type { AdapterFactory, AdapterFactoryOptions, ModelClass, TenantDatabaseOptions } from './database.js';
export { SYNC_COLUMNS } from './descriptors.js';
export type {
  ConflictStrategy,
  EntityDescriptor,
  FieldAccess,
  FieldDescriptor,
  FieldKind,
  SyncedRecord,
} from './descriptors.js';
export { appToRaw, appToWire, isTombstone, jsonValue, rawToApp, rawToWire, recordFromRaw, wireToRaw } from './codec.js';
export type { JsonValue, RawRow, RawValue, WireItem } from './codec.js';
export {
  ConflictRecord,
  OperationRecord,
  RUNTIME_TABLES,
  SyncStateRecord,
  UploadRecord,
  conflictsTable,
  operationQueueTable,
  runtimeModelClasses,
  runtimeTables,
  syncStateTable,
  uploadsTable,
} from './tables.js';
export type { OperationKind, OperationStatus } from './tables.js';
export { installUuidV7Ids, isUuidV7, newId } from './ids.js';
export { quietWatermelonLogs } from './logging.js';
// WatermelonDB pieces generated code needs, from paths that resolve under NodeNext.
export {
  addColumns,
  children,
  createTable,
  date,
  field,
  immutableRelation,
  json,
  lazy,
  nochange,
  readonly,
  reader,
  relation,
  schemaMigrations,
  text,
  unsafeExecuteSql,
  writer,
} from './watermelon.js';
