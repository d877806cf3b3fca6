/**
 * Ops emitter: a Grafana dashboard and Prometheus alert rules for the
 * generated entities, over the metrics the server runtime exposes on
 * `/metrics` (names from src/runtime/server/metric-names.ts, one source).
 * Pure and deterministic: panel ids and positions follow the entity order.
 */
import { stringify } from 'yaml';

import { printJson } from '../layout.js';
import { METRIC } from '../../runtime/server/metric-names.js';
import type { ProjectIR } from '../../model/types.js';
import type { Emitter } from '../types.js';

export const DASHBOARD_PATH = 'ops/grafana-dashboard.json';
export const ALERTS_PATH = 'ops/prometheus-alerts.yml';

/** Alert thresholds (documented in the README; edit a copy of the rules to tune them). */
export const ALERT_THRESHOLDS = {
  /** Share of pushed items answered with CONFLICT, per entity, over 15 minutes. */
  conflictRatio: 0.1,
  /** Share of pushed items refused with another per-item error, per entity, over 15 minutes. */
  itemErrorRatio: 0.05,
  /** Share of sync requests failing as a whole (UNAUTHENTICATED excluded), over 10 minutes. */
  requestErrorRatio: 0.05,
  /** p99 push / pull latency in seconds, per entity, over 10 minutes. */
  p99Seconds: 2,
  /** A device reporting a last successful sync older than this (seconds; a histogram bucket bound). */
  staleSyncSeconds: 86400,
} as const;

const RATE = '$__rate_interval';
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

interface Target {
  expr: string;
  legendFormat: string;
}

type Panel = Record<string, unknown>;

function quantile(q: number, histogram: string, selector: string, window = RATE): string {
  return `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket${selector}[${window}])))`;
}

/** p50 and p95 of a device-report histogram (over every device). */
function medianAndP95(histogram: string): Target[] {
  return [
    { expr: quantile(0.5, histogram, ''), legendFormat: 'p50' },
    { expr: quantile(0.95, histogram, ''), legendFormat: 'p95' },
  ];
}

class Layout {
  private id = 0;
  private y = 0;
  private x = 0;
  readonly panels: Panel[] = [];

  row(title: string): void {
    if (this.x > 0) this.newline();
    this.panels.push({ id: ++this.id, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: this.y }, panels: [] });
    this.y += 1;
  }

  timeseries(title: string, unit: string, targets: Target[], description: string, w = 6): void {
    if (this.x + w > 24) this.newline();
    this.panels.push({
      id: ++this.id,
      type: 'timeseries',
      title,
      description,
      datasource: DATASOURCE,
      gridPos: { h: 8, w, x: this.x, y: this.y },
      fieldConfig: { defaults: { unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } },
      targets: targets.map((t, i) => ({ datasource: DATASOURCE, refId: String.fromCharCode(65 + i), expr: t.expr, legendFormat: t.legendFormat })),
    });
    this.x += w;
  }

  private newline(): void {
    this.x = 0;
    this.y += 8;
  }
}

export function dashboard(project: ProjectIR): Record<string, unknown> {
  const layout = new Layout();
  layout.row('All entities');
  layout.timeseries(
    'Sync requests by outcome',
    'reqps',
    [{ expr: `sum by (op, outcome) (rate(${METRIC.requests}[${RATE}]))`, legendFormat: '{{op}} {{outcome}}' }],
    'syncPush / syncPull requests per second; outcome is ok or the GraphQL error code that failed the whole request.',
  );
  layout.timeseries(
    'Per-item errors by code',
    'ops',
    [{ expr: `sum by (entity, code) (rate(${METRIC.itemErrors}[${RATE}]))`, legendFormat: '{{entity}} {{code}}' }],
    'Pushed items refused with a per-item error other than CONFLICT.',
  );
  layout.timeseries(
    'Device queue size',
    'short',
    [
      ...medianAndP95(METRIC.clientQueueSize),
      { expr: quantile(0.95, METRIC.clientFailedOperations, ''), legendFormat: 'failed operations p95' },
    ],
    'Operations waiting on a device when it starts a sync (device reports, opt-in on the client with reportMetrics).',
  );
  layout.timeseries(
    'Last successful sync age',
    's',
    [
      ...medianAndP95(METRIC.clientLastSyncAge),
    ],
    "Seconds since a device's previous successful sync, as it reports when it syncs again.",
  );
  layout.timeseries(
    'Device database size',
    'bytes',
    [
      ...medianAndP95(METRIC.clientDbSize),
    ],
    'Size of the device SQLite database, per report.',
  );
  layout.timeseries(
    'Device reports and pending uploads',
    'short',
    [
      { expr: `sum by (result) (rate(${METRIC.clientReports}[${RATE}]))`, legendFormat: 'reports {{result}}' },
      { expr: quantile(0.95, METRIC.clientUploadsPending, ''), legendFormat: 'uploads pending p95' },
    ],
    'Device metric reports per second by result, and files waiting to be uploaded on devices.',
  );
  if (project.entities.some((e) => e.dataFields.some((f) => f.access === 'media'))) {
    layout.timeseries(
      'Media uploads by outcome',
      'reqps',
      [{ expr: `sum by (entity, outcome) (rate(${METRIC.mediaUploads}[${RATE}]))`, legendFormat: '{{entity}} {{outcome}}' }],
      'POST /uploads per second: stored, deduplicated (same bytes already stored) or the error code.',
    );
    layout.timeseries(
      'Media bytes stored',
      'Bps',
      [{ expr: `sum by (entity) (rate(${METRIC.mediaUploadBytes}[${RATE}]))`, legendFormat: '{{entity}}' }],
      'Bytes of newly stored media files per second.',
    );
  }
  layout.timeseries(
    'Online CRUD calls by outcome',
    'reqps',
    [{ expr: `sum by (entity, op, outcome) (rate(${METRIC.crudRequests}[${RATE}]))`, legendFormat: '{{entity}} {{op}} {{outcome}}' }],
    'Typed online CRUD (get, list, create, update, delete) per second.',
  );
  layout.timeseries(
    'Online CRUD latency p99',
    's',
    [{ expr: `histogram_quantile(0.99, sum by (le, entity, op) (rate(${METRIC.crudDuration}_bucket[${RATE}])))`, legendFormat: '{{entity}} {{op}}' }],
    'p99 duration of online CRUD calls.',
  );

  for (const entity of project.entities) {
    const sel = `{entity="${entity.name}"}`;
    layout.row(entity.name);
    layout.timeseries(
      `${entity.name}: push / pull latency`,
      's',
      [
        { expr: quantile(0.5, METRIC.pushDuration, sel), legendFormat: 'push p50' },
        { expr: quantile(0.99, METRIC.pushDuration, sel), legendFormat: 'push p99' },
        { expr: quantile(0.5, METRIC.pullDuration, sel), legendFormat: 'pull p50' },
        { expr: quantile(0.99, METRIC.pullDuration, sel), legendFormat: 'pull p99' },
      ],
      `syncPush / syncPull duration for ${entity.name}.`,
    );
    layout.timeseries(
      `${entity.name}: items pushed / pulled`,
      'ops',
      [
        { expr: `sum(rate(${METRIC.itemsPushed}${sel}[${RATE}]))`, legendFormat: 'pushed' },
        { expr: `sum(rate(${METRIC.itemsPulled}${sel}[${RATE}]))`, legendFormat: 'pulled' },
      ],
      `Items per second through syncPush / syncPull for ${entity.name}.`,
    );
    layout.timeseries(
      `${entity.name}: conflict rate`,
      'percentunit',
      [
        {
          expr: `sum by (outcome) (rate(${METRIC.conflicts}${sel}[${RATE}])) / scalar(sum(rate(${METRIC.itemsPushed}${sel}[${RATE}])))`,
          legendFormat: '{{outcome}}',
        },
      ],
      `Share of pushed ${entity.name} items with a stale base version (strategy: ${entity.conflict}): "conflict" was answered CONFLICT, "resolved" was settled by the strategy.`,
    );
    layout.timeseries(
      `${entity.name}: errors by code`,
      'ops',
      [{ expr: `sum by (code) (rate(${METRIC.itemErrors}${sel}[${RATE}]))`, legendFormat: '{{code}}' }],
      `Pushed ${entity.name} items refused per second, by error code.`,
    );
  }

  return {
    title: 'trackhub sync',
    uid: 'trackhub-sync',
    description: `Sync server and device health for ${project.entities.map((e) => e.name).join(', ')} (generated by trackhub-gen).`,
    tags: ['trackhub', 'sync'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1 }],
    },
    annotations: { list: [] },
    panels: layout.panels,
  };
}

export function alertRules(project: ProjectIR): Record<string, unknown> {
  const t = ALERT_THRESHOLDS;
  const entities = `entity=~"${project.entities.map((e) => e.name).join('|')}"`;
  const pushedBy = (w: string) => `sum by (entity) (rate(${METRIC.itemsPushed}{${entities}}[${w}]))`;
  const p99 = (histogram: string) => `histogram_quantile(0.99, sum by (le, entity) (rate(${histogram}_bucket{${entities}}[10m])))`;
  return {
    groups: [
      {
        name: 'trackhub-sync-entities',
        rules: [
          {
            alert: 'TrackhubConflictRateHigh',
            expr: `sum by (entity) (rate(${METRIC.conflicts}{${entities},outcome="conflict"}[15m])) / ${pushedBy('15m')} > ${t.conflictRatio}`,
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Many {{ $labels.entity }} pushes end in a CONFLICT',
              description: `More than ${t.conflictRatio * 100}% of pushed {{ $labels.entity }} items were answered CONFLICT over 15 minutes (now {{ $value | humanizePercentage }}).`,
            },
          },
          {
            alert: 'TrackhubItemErrorRateHigh',
            expr: `sum by (entity) (rate(${METRIC.itemErrors}{${entities}}[15m])) / ${pushedBy('15m')} > ${t.itemErrorRatio}`,
            for: '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Many {{ $labels.entity }} pushed items are refused',
              description: `More than ${t.itemErrorRatio * 100}% of pushed {{ $labels.entity }} items got a per-item error (see ${METRIC.itemErrors} by code) over 15 minutes.`,
            },
          },
          {
            alert: 'TrackhubPushLatencyHigh',
            expr: `${p99(METRIC.pushDuration)} > ${t.p99Seconds}`,
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syncPush of {{ $labels.entity }} is slow',
              description: `p99 syncPush latency of {{ $labels.entity }} is above ${t.p99Seconds}s (now {{ $value | humanizeDuration }}).`,
            },
          },
          {
            alert: 'TrackhubPullLatencyHigh',
            expr: `${p99(METRIC.pullDuration)} > ${t.p99Seconds}`,
            for: '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'syncPull of {{ $labels.entity }} is slow',
              description: `p99 syncPull latency of {{ $labels.entity }} is above ${t.p99Seconds}s (now {{ $value | humanizeDuration }}).`,
            },
          },
        ],
      },
      {
        name: 'trackhub-sync',
        rules: [
          {
            alert: 'TrackhubSyncRequestErrors',
            expr: `sum(rate(${METRIC.requests}{outcome!~"ok|UNAUTHENTICATED"}[10m])) / sum(rate(${METRIC.requests}[10m])) > ${t.requestErrorRatio}`,
            for: '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Sync requests fail as a whole',
              description: `More than ${t.requestErrorRatio * 100}% of syncPush / syncPull requests failed with a request-level error over 10 minutes (see ${METRIC.requests} by outcome).`,
            },
          },
          {
            alert: 'TrackhubDevicesWithStaleSync',
            expr: `sum(increase(${METRIC.clientLastSyncAge}_count[1h])) - sum(increase(${METRIC.clientLastSyncAge}_bucket{le="${t.staleSyncSeconds}"}[1h])) > 0`,
            labels: { severity: 'info' },
            annotations: {
              summary: 'Devices come back after a long time without a successful sync',
              description: `{{ $value }} device report(s) in the last hour had a last successful sync older than ${t.staleSyncSeconds / 3600}h. Devices that never reach the server cannot report; watch the sync request rate for those.`,
            },
          },
          {
            alert: 'TrackhubDeviceQueueBacklog',
            expr: `histogram_quantile(0.95, sum by (le) (rate(${METRIC.clientQueueSize}_bucket[1h]))) > 1000`,
            for: '1h',
            labels: { severity: 'info' },
            annotations: {
              summary: 'Devices start syncs with large queues',
              description: 'The p95 number of operations waiting on a device at the start of a sync is above 1000 over the last hour.',
            },
          },
        ],
      },
    ],
  };
}

export const emitOps: Emitter = (project) => [
  { path: DASHBOARD_PATH, content: printJson(dashboard(project)), owner: 'generator', formatted: true },
  { path: ALERTS_PATH, content: stringify(alertRules(project), { lineWidth: 0 }), owner: 'generator' },
];
