/**
 * TrackhubCore: the one object the generated NestJS code injects. It holds the
 * Prisma client, the token verifier, the entity registry, the sync clock and
 * the sync service. It is plain TypeScript, usable without NestJS (tests, jobs).
 */
import { Logger } from '@nestjs/common';
import type { GraphQLFormattedError } from 'graphql';

import { authenticate, type Principal, type TokenVerifier, type TrackhubContext } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { PrismaLike, PrismaTransactionOptions } from './prisma.js';
import { TrackhubMetrics, type TrackhubMetricsOptions } from './metrics.js';
import { stdoutSyncLog, SyncObserver, type SyncLogSink } from './observe.js';
import { EntityRegistry } from './registry.js';
import { SCOPE_MOVE_DELEGATE, SCOPE_MOVE_MODEL } from '../sync-clock-model.js';
import { SyncService, type SyncLogger } from './sync.service.js';
import { INTERNAL_MESSAGE, SyncErrorCode, type FaultSink } from './errors.js';
import { SyncClock, type BeforeCommitHook } from './sync-clock.js';
import { DEFAULT_READ_AHEAD, type ReadAheadOptions } from './read-ahead.js';
import { assertNoDevTokens } from './jwt.js';

export const DEFAULT_MAX_BATCH_SIZE = 1000;
export const DEFAULT_MAX_PULL_LIMIT = 1000;
export const DEFAULT_PULL_RECHECK_MS = 5000;

export interface TrackhubOptions {
  /** A PrismaClient instance generated from the schema (any provider). */
  prisma: PrismaLike;
  /** Turns a bearer token into `{ tenantId, userId }` or null. */
  verifyToken: TokenVerifier;
  /** Largest syncPush batch; larger ones are refused with BATCH_TOO_LARGE (default 1000). */
  maxBatchSize?: number;
  /** Largest syncPull limit (default 1000). */
  maxPullLimit?: number;
  /**
   * How long a device that is caught up on an entity is answered from the sync clock alone,
   * without a query of the entity's table, in ms (default 5000; 0 reads the table on every
   * pull). Writes through the runtime (syncPush, the online CRUD, `SyncClock.write`) reach
   * devices at their next pull whatever this is; a write that bypasses the runtime (your own
   * Prisma call, a script) reaches a caught-up device at most this long after its last read.
   */
  pullRecheckMs?: number;
  /**
   * Pull read-ahead (default on): after a page with more to come, the server reads the
   * stream's next page at once and keeps it, for up to `ttlMs` (default 10 s) and
   * `maxItems` items over all streams (default 20,000), for the device's next request.
   * A multi-page pull then waits for no query between its pages. `false` turns it off:
   * do so behind a load balancer that spreads one device's requests over replicas (each
   * page would be read twice).
   */
  pullReadAhead?: Partial<ReadAheadOptions> | false;
  /** Interactive transaction limits, one per pushed chunk of up to 250 items or per written item (default maxWait 10 s, timeout 30 s). */
  transactionOptions?: PrismaTransactionOptions;
  /** Where internal errors are logged (default: NestJS Logger 'Trackhub'). */
  logger?: SyncLogger;
  /** Prometheus metrics on `GET /metrics` (default on; `false` turns metrics and the endpoint off). */
  metrics?: TrackhubMetricsOptions | false;
  /** One structured log line per sync request: `true` = JSON on stdout, or your own sink. Default off. */
  syncLog?: boolean | SyncLogSink;
  /**
   * The server's wall clock in epoch ms (default `Date.now`). Only a starting value
   * for stamps, which follow commit order whatever it says (tests skew it per replica).
   */
  clock?: () => number;
  /** Fault injection for tests: awaited inside every write transaction, after its writes, before it commits. */
  beforeCommit?: BeforeCommitHook;
  /**
   * Accept a verifier that trusts development tokens (`dev:<tenant>:<user>`). Default:
   * only when TRACKHUB_ALLOW_DEV_TOKENS=1; otherwise such a server refuses to start.
   */
  allowDevTokens?: boolean;
}

export class TrackhubCore {
  readonly prisma: PrismaLike;
  readonly verifyToken: TokenVerifier;
  readonly registry: EntityRegistry;
  /** The database-side pull order every write goes through (sync-clock.ts). */
  readonly clock: SyncClock;
  readonly sync: SyncService;
  readonly maxBatchSize: number;
  readonly maxPullLimit: number;
  readonly transactionOptions: PrismaTransactionOptions;
  /** The Prometheus registry owner, or null when `metrics: false`. */
  readonly metrics: TrackhubMetrics | null;
  /** Wraps sync and CRUD requests with metrics and the sync log. */
  readonly observer: SyncObserver;
  private readonly allowDevTokens: boolean | undefined;

  constructor(options: TrackhubOptions, descriptors: readonly EntityDescriptor[]) {
    if (!options?.prisma) throw new Error('TrackhubCore: options.prisma (a PrismaClient instance) is required');
    if (typeof options.verifyToken !== 'function') throw new Error('TrackhubCore: options.verifyToken is required');
    this.prisma = options.prisma;
    this.verifyToken = options.verifyToken;
    this.allowDevTokens = options.allowDevTokens;
    this.registry = new EntityRegistry(descriptors);
    const scoped = descriptors.filter((d) => d.scope).map((d) => d.name);
    if (scoped.length && typeof (this.prisma as unknown as Record<string, { createMany?: unknown } | undefined>)[SCOPE_MOVE_DELEGATE]?.createMany !== 'function') {
      throw new Error(
        `TrackhubCore: ${scoped.join(', ')} ${scoped.length === 1 ? 'is' : 'are'} synced by scope, but the Prisma client has no ${SCOPE_MOVE_MODEL} model, ` +
          'which logs records leaving a scope so that devices pull them as removals. Add it with `npx trackhub-gen fix-schema`, ' +
          'run your migration and regenerate the Prisma client.',
      );
    }
    this.maxBatchSize = positive(options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE, 'maxBatchSize');
    this.maxPullLimit = positive(options.maxPullLimit, DEFAULT_MAX_PULL_LIMIT, 'maxPullLimit');
    this.transactionOptions = { maxWait: 10_000, timeout: 30_000, ...options.transactionOptions };
    this.clock = new SyncClock(this.prisma, {
      transactionOptions: this.transactionOptions,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.beforeCommit ? { beforeCommit: options.beforeCommit } : {}),
    });
    const logger = options.logger ?? new Logger('Trackhub');
    this.sync = new SyncService({
      prisma: this.prisma,
      registry: this.registry,
      clock: this.clock,
      maxBatchSize: this.maxBatchSize,
      maxPullLimit: this.maxPullLimit,
      recheckMs: nonNegative(options.pullRecheckMs, DEFAULT_PULL_RECHECK_MS, 'pullRecheckMs'),
      now: options.clock ?? Date.now,
      logger,
      readAhead:
        options.pullReadAhead === false
          ? false
          : {
              ttlMs: nonNegative(options.pullReadAhead?.ttlMs, DEFAULT_READ_AHEAD.ttlMs, 'pullReadAhead.ttlMs'),
              maxItems: nonNegative(options.pullReadAhead?.maxItems, DEFAULT_READ_AHEAD.maxItems, 'pullReadAhead.maxItems'),
            },
    });
    this.metrics = options.metrics === false ? null : new TrackhubMetrics(this.registry.names(), options.metrics ?? {});
    const log = options.syncLog === true ? stdoutSyncLog : typeof options.syncLog === 'function' ? options.syncLog : null;
    const faults: FaultSink = (error, where) =>
      logger.error(`internal fault in ${where}`, error instanceof Error ? (error.stack ?? error.message) : String(error));
    this.observer = new SyncObserver(this.metrics, log, faults);
  }

  /** Checks run once when the server starts; throws when it must not run (see `assertNoDevTokens`). */
  async checkStartup(): Promise<void> {
    await assertNoDevTokens(this.verifyToken, this.allowDevTokens);
  }

  /** The verified principal of a GraphQL request, or an UNAUTHENTICATED error. */
  authenticate(context: TrackhubContext | undefined): Promise<Principal> {
    return authenticate(context, this.verifyToken);
  }

  /**
   * Apollo's `formatError`, the last line: an error that escaped every
   * resolver wrapper (a user resolver, the request context) is answered as
   * `INTERNAL` with no message, extensions or stack, logged and counted.
   * Deliberate errors (ours, GraphQL validation, HTTP 4xx) pass unchanged,
   * through `next` when you configured your own.
   */
  formatError(next?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError) {
    return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      if (this.observer.mask(error, 'graphql') !== error) {
        return {
          message: INTERNAL_MESSAGE,
          extensions: { code: SyncErrorCode.INTERNAL },
          ...(formatted.locations ? { locations: formatted.locations } : {}),
          ...(formatted.path ? { path: formatted.path } : {}),
        };
      }
      return next ? next(formatted, error) : formatted;
    };
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`TrackhubCore: ${name} must be a positive integer`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`TrackhubCore: ${name} must be an integer of 0 or more (ms)`);
  return value;
}
