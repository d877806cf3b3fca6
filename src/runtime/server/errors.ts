/**
 * Stable error codes of the sync protocol and the online CRUD path.
 *
 * Request-level problems (no principal, unknown entity, oversize batch, bad
 * limit or cursor) are GraphQL errors carrying `extensions.code`. Problems with
 * one pushed item are per-item results (`errorCode`) and never fail the batch.
 */
import { GraphQLError } from 'graphql';

export const SyncErrorCode = {
  /** No valid `Authorization: Bearer ...` token. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** `entity` names no synced entity; the error lists the valid ones. */
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  /** More items in one syncPush than `maxBatchSize`; nothing written. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  /** `limit` outside 1..maxPullLimit. */
  INVALID_LIMIT: 'INVALID_LIMIT',
  /** A `cursor` this server did not issue. */
  INVALID_CURSOR: 'INVALID_CURSOR',
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
  /** Anything unexpected; details are logged on the server, not sent. */
  INTERNAL: 'INTERNAL',
} as const;

export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** A request-level error: a GraphQL error with `extensions.code`. */
export class TrackhubError extends GraphQLError {
  readonly code: SyncErrorCode;

  constructor(code: SyncErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.code = code;
    this.name = 'TrackhubError';
  }
}

/** A problem with one pushed item (or one CRUD input): becomes a per-item result. */
export class ItemError extends Error {
  readonly code: SyncErrorCode;

  constructor(code: SyncErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'ItemError';
  }
}

/** What a request answers when something unexpected failed: no message, no stack, no details. */
export const INTERNAL_MESSAGE = 'Internal server error';

/** Faults seen at the request boundary (a database error, a bug): logged here, never sent. */
export type FaultSink = (error: unknown, where: string) => void;

/** Default fault log: one line on stderr with the stack, through Nest's logger format. */
export const stderrFaultSink: FaultSink = (error, where) => {
  const stack = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`[trackhub] ERROR internal fault in ${where}: ${stack}\n`);
};

/** GraphQLError by class or by name: bundlers and Node can load two copies of graphql (ESM and CJS). */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError');
}

/**
 * Whether an error is a deliberate answer rather than a fault: ours
 * (TrackhubError), GraphQL's own (parse, validation, variables), or an HTTP
 * error with a client status (NestJS guards and pipes in your resolvers).
 * Follows `originalError`, as GraphQL wraps what a resolver threw.
 */
export function isDeliberateError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current != null; depth++) {
    if (current instanceof TrackhubError || (current instanceof Error && current.name === 'TrackhubError')) return true;
    const original = (current as { originalError?: unknown }).originalError;
    if (original == null) {
      if (isGraphQLError(current)) return true;
      const status = (current as { getStatus?: () => unknown }).getStatus?.();
      return typeof status === 'number' && status < 500;
    }
    current = original;
  }
  return false;
}

/**
 * The request-level error to answer with: the error itself when it is
 * deliberate, else `INTERNAL` with no message or details (the fault goes to `sink`).
 */
export function maskFault(error: unknown, where: string, sink: FaultSink = stderrFaultSink): unknown {
  if (isDeliberateError(error)) return error;
  try {
    sink(error, where);
  } catch {
    // a broken sink must not change the answer
  }
  return new TrackhubError(SyncErrorCode.INTERNAL, INTERNAL_MESSAGE);
}
