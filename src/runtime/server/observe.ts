/**
 * Observation of sync requests: Prometheus metrics (metrics.ts) and one
 * structured log line per syncPull / syncPush, wrapped around the resolver
 * (which sees the request: principal, headers, errors), so the sync service
 * itself stays free of instrumentation.
 *
 * A log line carries the tenant, entity, operation, counts, duration, outcome
 * and per-item error codes; never field values, ids, error messages or tokens.
 */
import type { TrackhubContext } from './auth.js';
import { maskFault, stderrFaultSink, type FaultSink } from './errors.js';
import { CLIENT_METRICS_HEADER, boundedCode, type CrudOp, type TrackhubMetrics } from './metrics.js';
import type { SyncPullResult, SyncResult } from './sync.service.js';

export interface SyncLogEntry {
  op: 'push' | 'pull';
  /** The verified tenant, or null when the request was not authenticated. */
  tenant: string | null;
  entity: string;
  /** 'ok', or the GraphQL error code that failed the whole request. */
  outcome: string;
  durationMs: number;
  /** Items received (push) or returned (pull). */
  items: number;
  /** push: items applied. */
  succeeded?: number;
  /** push: items answered with CONFLICT. */
  conflicts?: number;
  /** push: items refused with another error. */
  failed?: number;
  /** push: per-item error codes with their counts (CONFLICT included). */
  errorCodes?: Record<string, number>;
  /** pull: more pages follow. */
  hasMore?: boolean;
  /** The device sent its own metrics with this request. */
  clientMetrics?: boolean;
}

/** Receives one entry per sync request. */
export type SyncLogSink = (entry: SyncLogEntry) => void;

/** `true`: one JSON line per request on stdout. */
export const stdoutSyncLog: SyncLogSink = (entry) => {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: 'trackhub.sync', ...entry })}\n`);
};

const MAX_ENTITY_LOG_LENGTH = 64;

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown; extensions?: { code?: unknown } } | null)?.extensions?.code ?? (error as { code?: unknown } | null)?.code;
  return boundedCode(code);
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Seconds as milliseconds with one decimal (the log's durationMs). */
function toMs(seconds: number): number {
  return Math.round(seconds * 1e4) / 10;
}

export class SyncObserver {
  constructor(
    readonly metrics: TrackhubMetrics | null,
    private readonly log: SyncLogSink | null,
    private readonly faults: FaultSink = stderrFaultSink,
  ) {}

  /** The device's metric header, counted once the request is authenticated (strangers cannot feed the metrics). */
  private clientReport(context: TrackhubContext | undefined): boolean {
    if (!this.metrics || !context?.principal) return false;
    return this.metrics.observeClientReport(context.req?.headers?.[CLIENT_METRICS_HEADER]);
  }

  private emit(entry: SyncLogEntry): void {
    if (!this.log) return;
    try {
      this.log({ ...entry, entity: entry.entity.slice(0, MAX_ENTITY_LOG_LENGTH) });
    } catch {
      // a broken log sink must not fail a sync
    }
  }

  async pull(context: TrackhubContext | undefined, entity: string, run: () => Promise<SyncPullResult>): Promise<SyncPullResult> {
    const start = process.hrtime.bigint();
    let result: SyncPullResult;
    try {
      result = await run();
    } catch (error) {
      const answer = this.mask(error, `syncPull(${entity.slice(0, MAX_ENTITY_LOG_LENGTH)})`);
      this.failed('pull', context, entity, start, answer);
      throw answer;
    }
    const took = seconds(start);
    this.metrics?.request('pull', 'ok');
    this.metrics?.observePull(entity, took, result.items.length);
    const clientMetrics = this.clientReport(context);
    this.emit({
      op: 'pull',
      tenant: context?.principal?.tenantId ?? null,
      entity,
      outcome: 'ok',
      durationMs: toMs(took),
      items: result.items.length,
      hasMore: result.hasMore,
      clientMetrics,
    });
    return result;
  }

  async push(context: TrackhubContext | undefined, entity: string, items: readonly unknown[], run: () => Promise<SyncResult[]>): Promise<SyncResult[]> {
    const start = process.hrtime.bigint();
    let results: SyncResult[];
    try {
      results = await run();
    } catch (error) {
      const answer = this.mask(error, `syncPush(${entity.slice(0, MAX_ENTITY_LOG_LENGTH)})`);
      this.failed('push', context, entity, start, answer);
      throw answer;
    }
    const took = seconds(start);
    this.metrics?.request('push', 'ok');
    this.metrics?.observePush(entity, took, items, results);
    const clientMetrics = this.clientReport(context);
    if (this.log) {
      const errorCodes: Record<string, number> = {};
      let succeeded = 0;
      for (const r of results) {
        if (r.success) succeeded++;
        else {
          const code = boundedCode(r.errorCode);
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      }
      const conflicts = errorCodes.CONFLICT ?? 0;
      this.emit({
        op: 'push',
        tenant: context?.principal?.tenantId ?? null,
        entity,
        outcome: 'ok',
        durationMs: toMs(took),
        items: results.length,
        succeeded,
        conflicts,
        failed: results.length - succeeded - conflicts,
        errorCodes,
        clientMetrics,
      });
    }
    return results;
  }

  private failed(op: 'push' | 'pull', context: TrackhubContext | undefined, entity: string, start: bigint, error: unknown): void {
    const code = errorCode(error);
    this.metrics?.request(op, code);
    this.emit({
      op,
      tenant: context?.principal?.tenantId ?? null,
      entity,
      outcome: code,
      durationMs: toMs(seconds(start)),
      items: 0,
    });
  }

  /** One online CRUD call (metrics only; the CRUD path has no per-request log line). */
  async crud<T>(entity: string, op: CrudOp, run: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const result = await run();
      this.metrics?.observeCrud(entity, op, 'ok', seconds(start));
      return result;
    } catch (error) {
      const answer = this.mask(error, `${op} ${entity}`);
      this.metrics?.observeCrud(entity, op, errorCode(answer), seconds(start));
      throw answer;
    }
  }

  /** A fault (not one of our answers) becomes INTERNAL: logged and counted here, no details sent. */
  mask(error: unknown, where: string): unknown {
    const answer = maskFault(error, where, this.faults);
    if (answer !== error) this.metrics?.internalError();
    return answer;
  }
}
