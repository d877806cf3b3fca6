/**
 * Prometheus metrics of the sync server (prom-client), on a registry of their
 * own (never prom-client's global default registry, so several apps or test
 * servers in one process do not clash).
 *
 * Labels are bounded: entity names come from the generated registry, error
 * codes from SyncErrorCode (anything else is `OTHER`), ops and outcomes are
 * fixed words. Never ids, tenant ids or device ids.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { CLIENT_METRICS_HEADER, type DeviceMetricsReport } from '../device-report.js';
import { SyncErrorCode } from './errors.js';
import { METRIC } from './metric-names.js';

export { CLIENT_METRICS_HEADER, METRIC };

/** Longest client metrics header accepted (bytes); longer ones are counted as invalid. */
export const MAX_CLIENT_METRICS_HEADER = 1024;

export interface TrackhubMetricsOptions {
  /** Path of the scrape endpoint (default '/metrics'). */
  path?: string;
  /** When set, a scrape must send `Authorization: Bearer <token>` (else 401). Default: open. */
  token?: string;
  /** Accept device-reported metrics (the `x-trackhub-client-metrics` header). Default true. */
  clientMetrics?: boolean;
  /** Also collect prom-client's process metrics (CPU, memory, event loop) on this registry. Default false. */
  processMetrics?: boolean;
  /** Register on this registry instead of a new one (e.g. to share it with your own metrics). */
  registry?: Registry;
}

/** What a device reports about itself (see CLIENT_METRICS_HEADER): untrusted, so every member is optional. */
export type ClientMetricsReport = Partial<DeviceMetricsReport>;

export type SyncOp = 'push' | 'pull';
export type CrudOp = 'get' | 'list' | 'create' | 'update' | 'delete';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000];
const COUNT_BUCKETS = [0, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000];
const BYTES_BUCKETS = [256 * 1024, 1024 ** 2, 4 * 1024 ** 2, 16 * 1024 ** 2, 64 * 1024 ** 2, 256 * 1024 ** 2, 1024 ** 3];
const AGE_BUCKETS = [60, 300, 900, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400];

const MEDIA_OUTCOMES = new Set<string>([
  'stored',
  'deduplicated',
  'UNAUTHENTICATED',
  'UNKNOWN_MEDIA_FIELD',
  'BAD_UPLOAD',
  'FILE_TOO_LARGE',
  'UNSUPPORTED_CONTENT_TYPE',
  'INTERRUPTED',
  'INTERNAL',
]);

const KNOWN_CODES = new Set<string>(Object.values(SyncErrorCode));

/** An error code safe as a label value: a SyncErrorCode, else 'OTHER'. */
export function boundedCode(code: unknown): string {
  return typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'OTHER';
}

export class TrackhubMetrics {
  readonly registry: Registry;
  readonly path: string;
  readonly token: string | null;
  readonly acceptsClientMetrics: boolean;
  private readonly entities: ReadonlySet<string>;

  private readonly requests: Counter<'op' | 'outcome'>;
  private readonly pushDuration: Histogram<'entity'>;
  private readonly pullDuration: Histogram<'entity'>;
  private readonly itemsPushed: Counter<'entity'>;
  private readonly itemsPulled: Counter<'entity'>;
  private readonly conflicts: Counter<'entity' | 'outcome'>;
  private readonly itemErrors: Counter<'entity' | 'code'>;
  private readonly batchSize: Histogram<'op' | 'entity'>;
  private readonly crudRequests: Counter<'entity' | 'op' | 'outcome'>;
  private readonly crudDuration: Histogram<'entity' | 'op'>;
  private readonly mediaUploads: Counter<'entity' | 'outcome'>;
  private readonly mediaUploadBytes: Counter<'entity'>;
  private readonly internalErrors: Counter;
  private readonly clientReports: Counter<'result'>;
  private readonly clientQueueSize: Histogram;
  private readonly clientFailedOperations: Histogram;
  private readonly clientUploadsPending: Histogram;
  private readonly clientDbSize: Histogram;
  private readonly clientLastSyncAge: Histogram;

  constructor(entities: readonly string[], options: TrackhubMetricsOptions = {}) {
    const path = options.path ?? '/metrics';
    if (!path.startsWith('/')) throw new Error(`TrackhubMetrics: path must start with "/", got "${path}"`);
    this.path = path;
    this.token = options.token ?? null;
    this.acceptsClientMetrics = options.clientMetrics ?? true;
    this.entities = new Set(entities);
    const registers = [(this.registry = options.registry ?? new Registry())];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });

    this.requests = new Counter({ name: METRIC.requests, help: 'syncPull / syncPush requests by outcome (ok or the GraphQL error code)', labelNames: ['op', 'outcome'], registers });
    this.pushDuration = new Histogram({ name: METRIC.pushDuration, help: 'syncPush request duration in seconds', labelNames: ['entity'], buckets: LATENCY_BUCKETS, registers });
    this.pullDuration = new Histogram({ name: METRIC.pullDuration, help: 'syncPull request duration in seconds', labelNames: ['entity'], buckets: LATENCY_BUCKETS, registers });
    this.itemsPushed = new Counter({ name: METRIC.itemsPushed, help: 'Items received by syncPush (every result: success, conflict or error)', labelNames: ['entity'], registers });
    this.itemsPulled = new Counter({ name: METRIC.itemsPulled, help: 'Items returned by syncPull', labelNames: ['entity'], registers });
    this.conflicts = new Counter({
      name: METRIC.conflicts,
      help: 'Pushed items with a stale base version: outcome "conflict" = CONFLICT answered to the device, "resolved" = settled by the entity strategy',
      labelNames: ['entity', 'outcome'],
      registers,
    });
    this.itemErrors = new Counter({ name: METRIC.itemErrors, help: 'Pushed items refused with a per-item error other than CONFLICT, by code', labelNames: ['entity', 'code'], registers });
    this.batchSize = new Histogram({ name: METRIC.batchSize, help: 'Items per syncPush batch / syncPull page', labelNames: ['op', 'entity'], buckets: BATCH_BUCKETS, registers });
    this.crudRequests = new Counter({ name: METRIC.crudRequests, help: 'Online CRUD calls by outcome (ok or error code)', labelNames: ['entity', 'op', 'outcome'], registers });
    this.crudDuration = new Histogram({ name: METRIC.crudDuration, help: 'Online CRUD call duration in seconds', labelNames: ['entity', 'op'], buckets: LATENCY_BUCKETS, registers });
    this.mediaUploads = new Counter({
      name: METRIC.mediaUploads,
      help: 'Media uploads (POST /uploads/<Entity>/<field>) by outcome: stored, deduplicated (same bytes already stored) or the error code',
      labelNames: ['entity', 'outcome'],
      registers,
    });
    this.mediaUploadBytes = new Counter({ name: METRIC.mediaUploadBytes, help: 'Bytes of media files newly stored', labelNames: ['entity'], registers });
    this.internalErrors = new Counter({ name: METRIC.internalErrors, help: 'Requests answered INTERNAL: an unexpected server fault (database error, bug), logged on the server', registers });
    this.clientReports = new Counter({ name: METRIC.clientReports, help: 'Device metric reports received (header x-trackhub-client-metrics): accepted, never_synced (accepted, the device has no successful sync yet) or invalid', labelNames: ['result'], registers });
    this.clientQueueSize = new Histogram({ name: METRIC.clientQueueSize, help: 'Operations waiting on the device when it started a sync, per report', buckets: COUNT_BUCKETS, registers });
    this.clientFailedOperations = new Histogram({ name: METRIC.clientFailedOperations, help: 'Operations refused by the server and waiting to be retried on the device, per report', buckets: COUNT_BUCKETS, registers });
    this.clientUploadsPending = new Histogram({ name: METRIC.clientUploadsPending, help: 'Files waiting to be uploaded on the device, per report', buckets: COUNT_BUCKETS, registers });
    this.clientDbSize = new Histogram({ name: METRIC.clientDbSize, help: 'Device database size in bytes, per report', buckets: BYTES_BUCKETS, registers });
    this.clientLastSyncAge = new Histogram({ name: METRIC.clientLastSyncAge, help: "Seconds since the device's last successful sync (device clock), per report", buckets: AGE_BUCKETS, registers });

    // Series that exist from the start, so rate() and the dashboard work before the first sync.
    for (const entity of this.entities) {
      this.itemsPushed.inc({ entity }, 0);
      this.itemsPulled.inc({ entity }, 0);
      for (const outcome of ['conflict', 'resolved']) this.conflicts.inc({ entity, outcome }, 0);
    }
    for (const op of ['push', 'pull']) this.requests.inc({ op, outcome: 'ok' }, 0);
    this.clientReports.inc({ result: 'accepted' }, 0);
  }

  /** The entity as a label value; unknown names never become labels. */
  private entityLabel(entity: string): string | null {
    return this.entities.has(entity) ? entity : null;
  }

  internalError(): void {
    this.internalErrors.inc();
  }

  request(op: SyncOp, outcome: string): void {
    this.requests.inc({ op, outcome: outcome === 'ok' ? 'ok' : boundedCode(outcome) });
  }

  observePull(entity: string, seconds: number, items: number): void {
    const label = this.entityLabel(entity);
    if (label === null) return;
    this.pullDuration.observe({ entity: label }, seconds);
    this.itemsPulled.inc({ entity: label }, items);
    this.batchSize.observe({ op: 'pull', entity: label }, items);
  }

  /**
   * One answered syncPush: `sent` are the pushed items, `results` the answers
   * (same order). A stale base version settled by the strategy is an item sent
   * with `version` n whose successful answer is not at version n + 1.
   */
  observePush(
    entity: string,
    seconds: number,
    sent: readonly unknown[],
    results: readonly { success: boolean; errorCode: string | null; version: number | null }[],
  ): void {
    const label = this.entityLabel(entity);
    if (label === null) return;
    this.pushDuration.observe({ entity: label }, seconds);
    this.itemsPushed.inc({ entity: label }, results.length);
    this.batchSize.observe({ op: 'push', entity: label }, results.length);
    results.forEach((result, i) => {
      if (result.success) {
        const base = (sent[i] as { version?: unknown } | null)?.version;
        if (typeof base === 'number' && typeof result.version === 'number' && result.version !== base + 1)
          this.conflicts.inc({ entity: label, outcome: 'resolved' });
      } else if (result.errorCode === SyncErrorCode.CONFLICT) {
        this.conflicts.inc({ entity: label, outcome: 'conflict' });
      } else {
        this.itemErrors.inc({ entity: label, code: boundedCode(result.errorCode) });
      }
    });
  }

  observeCrud(entity: string, op: CrudOp, outcome: string, seconds: number): void {
    const label = this.entityLabel(entity);
    if (label === null) return;
    this.crudRequests.inc({ entity: label, op, outcome: outcome === 'ok' ? 'ok' : boundedCode(outcome) });
    this.crudDuration.observe({ entity: label, op }, seconds);
  }

  /**
   * One answered media upload. `entity` is the URL's entity (labelled `unknown`
   * unless it is a generated entity); `outcome` is stored, deduplicated or a
   * MediaErrorCode; `bytes` counts newly stored files only.
   */
  observeUpload(entity: string, outcome: string, bytes = 0): void {
    const label = this.entityLabel(entity) ?? 'unknown';
    this.mediaUploads.inc({ entity: label, outcome: MEDIA_OUTCOMES.has(outcome) ? outcome : 'OTHER' });
    if (outcome === 'stored' && bytes > 0) this.mediaUploadBytes.inc({ entity: label }, bytes);
  }

  /** A device's report (the header's raw value). Returns whether it was accepted. */
  observeClientReport(raw: string | string[] | undefined): boolean {
    if (!this.acceptsClientMetrics || raw === undefined) return false;
    const report = parseClientReport(Array.isArray(raw) ? raw[0] : raw);
    if (!report) {
      this.clientReports.inc({ result: 'invalid' });
      return false;
    }
    this.clientReports.inc({ result: report.lastSyncAgeSeconds === null ? 'never_synced' : 'accepted' });
    if (report.queueSize !== undefined) this.clientQueueSize.observe(report.queueSize);
    if (report.failedOperations !== undefined) this.clientFailedOperations.observe(report.failedOperations);
    if (report.uploadsPending !== undefined) this.clientUploadsPending.observe(report.uploadsPending);
    if (report.dbSizeBytes !== undefined) this.clientDbSize.observe(report.dbSizeBytes);
    if (typeof report.lastSyncAgeSeconds === 'number') this.clientLastSyncAge.observe(report.lastSyncAgeSeconds);
    return true;
  }

  /** The Prometheus text exposition of every metric on the registry. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const REPORT_FIELDS = ['queueSize', 'failedOperations', 'uploadsPending', 'dbSizeBytes'] as const;

/** The header's JSON, or null when it is not a small object of finite non-negative numbers. */
export function parseClientReport(text: string | undefined): ClientMetricsReport | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_CLIENT_METRICS_HEADER) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const input = value as Record<string, unknown>;
  const report: ClientMetricsReport = {};
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  for (const key of REPORT_FIELDS) {
    if (input[key] === undefined || input[key] === null) continue;
    if (!valid(input[key])) return null;
    report[key] = input[key];
  }
  const age = input.lastSyncAgeSeconds;
  if (age === null) report.lastSyncAgeSeconds = null;
  else if (age !== undefined) {
    if (!valid(age)) return null;
    report.lastSyncAgeSeconds = age;
  }
  return report;
}
