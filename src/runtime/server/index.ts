/**
 * trackhub-gen/runtime/server: what the generated NestJS code imports.
 */
export { authenticate, bearerToken, createTrackhubContext, devTokenVerifier } from './auth.js';
export type { Principal, RequestLike, TokenVerifier, TrackhubContext } from './auth.js';
export { ALLOW_DEV_TOKENS_ENV, assertNoDevTokens, jwtVerifier, verifierFromEnv } from './jwt.js';
export type { JwtVerifierOptions } from './jwt.js';
export { bodyLimitFor, createTrackhubServer, startTrackhubServer } from './bootstrap.js';
export type { TrackhubServerOptions } from './bootstrap.js';
export { graphqlRecord, parseItem, serializeRecord, wireEqual } from './codec.js';
export type { JsonValue, ParsedItem, WireRecord } from './codec.js';
export { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_PULL_LIMIT, TrackhubCore } from './core.js';
export type { TrackhubOptions } from './core.js';
export { CrudService, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './crud.service.js';
export type { CrudListArgs, CrudPage } from './crud.service.js';
export { decodePullCursor, encodePullCursor } from './cursor.js';
export type { PullPosition } from './cursor.js';
export { defineEntity } from './descriptor.js';
export type {
  ConflictStrategy,
  EntityDescriptor,
  FieldAccess,
  FieldDescriptor,
  FieldKind,
  RelationDescriptor,
  StorageDescriptor,
} from './descriptor.js';
export { ItemError, SyncErrorCode, TrackhubError } from './errors.js';
export { TrackhubErrorFilter } from './error-filter.js';
export { afterPull, validateInput, validateItem } from './hooks.js';
export type { EntityHooks, PullHookContext, ReadHookContext, ReadRule, WriteHookContext } from './hooks.js';
export { SCOPE_MOVE_MODEL, SCOPE_MOVE_PRISMA } from '../sync-clock-model.js';
export { ConflictPayload, GraphQLDateTime, GraphQLJSON, SyncPullResponse, SyncRemoval, SyncResultItem } from './graphql.js';
export type { TrackhubModuleOptions } from './module-options.js';
export { delegateOf, prismaDbNull } from './prisma.js';
export type { PrismaDelegateLike, PrismaLike, PrismaTransactionOptions, Row } from './prisma.js';
export { boundedCode, CLIENT_METRICS_HEADER, METRIC, parseClientReport, TrackhubMetrics } from './metrics.js';
export type { ClientMetricsReport, TrackhubMetricsOptions } from './metrics.js';
export { metricsController, trackhubControllers } from './metrics.controller.js';
export { stdoutSyncLog, SyncObserver } from './observe.js';
export type { SyncLogEntry, SyncLogSink } from './observe.js';
export { EntityRegistry } from './registry.js';
export { SyncService } from './sync.service.js';
export type { ConflictPayload as SyncConflict, SyncPullArgs, SyncPullResult, SyncResult } from './sync.service.js';
export { TrackhubSyncResolver } from './sync.resolver.js';
export { SYNC_CLOCK_MODEL, SYNC_CLOCK_PRISMA, SyncClock, syncScope } from './sync-clock.js';
export type { BeforeCommitHook, SyncClockOptions } from './sync-clock.js';
export {
  DEFAULT_MEDIA_CONTENT_TYPES,
  DEFAULT_MEDIA_MAX_BYTES,
  LocalDiskStorage,
  MediaError,
  ResumableUploads,
  TrackhubMedia,
  TrackhubMediaController,
  tenantDirName,
  DEFAULT_UPLOAD_SESSION_TTL_MS,
  UploadSessionStore,
  receiveChunk,
} from './media/index.js';
export type { AppendOutcome, ChunkSource, UploadSession, UploadSessionBackend, UploadSessionResult } from './media/index.js';
export type { MediaErrorCode, MediaInfo, MediaLimits, MediaOptions, MediaStorage, StoredMedia, UploadResult } from './media/index.js';
