/**
 * Stable error codes of the sync protocol and the online CRUD path.
 *
 * Request-level problems (no principal, unknown entity, oversize batch, bad
 * limit or cursor) are GraphQL errors carrying `extensions.code`. Problems with
 * one pushed item are per-item results (`errorCode`) and never fail the batch.
 */
import { GraphQLError } from 'graphql';

export { SyncErrorCode } from '../../contract/errors.js';
import { SyncErrorCode } from '../../contract/errors.js';

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
