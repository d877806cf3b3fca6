/**
 * Stable error codes of the sync protocol and the online CRUD path (PRODUCT.md, "Errors").
 *
 * Request-level problems (no principal, unknown entity, oversize batch, bad
 * limit or cursor) are GraphQL errors carrying `extensions.code`. Problems with
 * one pushed item are per-item results (`errorCode`) and never fail the batch.
 * No imports: the server runtime raises them, the device runtime reads them.
 */
export const SyncErrorCode = {
  /** No valid `Authorization: Bearer ...` token. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** `entity` names no synced entity; the error lists the valid ones. */
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  /** More items in one syncPush than `maxBatchSize`; nothing written. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  /** `limit` outside 1..maxPullLimit. */
  INVALID_LIMIT: 'INVALID_LIMIT',
  /** A `cursor` this server did not issue (or issued for another scope). */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /** A syncPull `scope` for an entity that is not synced by scope; the error lists the scoped entities. */
  INVALID_SCOPE: 'INVALID_SCOPE',
  /** Malformed item or input: wrong type, unknown field, missing required field, bad reference. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** No record with that id in the caller's tenant (another tenant's id reads the same). */
  NOT_FOUND: 'NOT_FOUND',
  /** The base/expected version is stale and the entity's strategy did not resolve it. */
  CONFLICT: 'CONFLICT',
  /** The item carries a server-only (`@sync.ignore`) field. */
  FORBIDDEN_FIELD: 'FORBIDDEN_FIELD',
  /** The item would repeat a value of one of the model's own @@unique keys (also one held by a deleted record). */
  UNIQUE_VIOLATION: 'UNIQUE_VIOLATION',
  /** A value longer than its column allows (`@db.VarChar(n)`). */
  VALUE_TOO_LONG: 'VALUE_TOO_LONG',
  /** A value its column type cannot hold (a non-UUID in a `@db.Uuid` column). */
  INVALID_VALUE: 'INVALID_VALUE',
  /** A foreign key naming no record (in the caller's tenant). */
  REFERENCE_NOT_FOUND: 'REFERENCE_NOT_FOUND',
  /**
   * A delete refused by a relation's `onDelete: Restrict` (Prisma's default for a required
   * relation): live children still reference the record. The answer carries the server's
   * copy (`conflict.serverData`); a device restores it.
   */
  DELETE_RESTRICTED: 'DELETE_RESTRICTED',
  /**
   * A create or update naming a parent that was deleted, through a relation with
   * `onDelete: Restrict`. (Under `Cascade` the record is stored deleted; under `SetNull`
   * the reference is cleared.) Permanent: a device gives the operation up at once.
   */
  PARENT_DELETED: 'PARENT_DELETED',
  /** Anything unexpected; details are logged on the server, not sent. */
  INTERNAL: 'INTERNAL',
} as const;

export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** Per-item codes that no retry can change: a device gives the operation up at the first one. */
export const PERMANENT_ITEM_ERRORS: readonly SyncErrorCode[] = [SyncErrorCode.PARENT_DELETED];
