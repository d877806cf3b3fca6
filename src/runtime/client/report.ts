/**
 * The device's metrics report, sent (opt-in: `reportMetrics: true`) with the
 * first request of a sync run as the `x-trackhub-client-metrics` header, so the
 * server can aggregate device health into bounded Prometheus histograms.
 * Counts and sizes only: no ids, no tenant, no record data.
 */
import { Q } from '@nozbe/watermelondb';
import type { Database } from '@nozbe/watermelondb';

import { CLIENT_METRICS_HEADER, type DeviceMetricsReport } from '../device-report.js';
import { RUNTIME_TABLES } from './tables.js';

export { CLIENT_METRICS_HEADER, type DeviceMetricsReport };

/** Device time (epoch ms) of the latest successful pull recorded in `sync_state`, or null. */
export async function lastPersistedSync(database: Database): Promise<number | null> {
  const rows = await database.get(RUNTIME_TABLES.syncState).query().fetch();
  let latest: number | null = null;
  for (const row of rows) {
    const at = row._raw as unknown as { updated_at?: unknown };
    if (typeof at.updated_at === 'number' && (latest === null || at.updated_at > latest)) latest = at.updated_at;
  }
  return latest;
}

export async function failedOperations(database: Database): Promise<number> {
  return database.get(RUNTIME_TABLES.operationQueue).query(Q.where('status', 'failed')).fetchCount();
}

export function deviceReport(
  metrics: { queueSize: number; uploadsPending: number; dbSizeBytes: number | null; lastSuccessfulSyncAt: Date | null },
  failed: number,
  lastPersisted: number | null,
  now = Date.now(),
): DeviceMetricsReport {
  const last = metrics.lastSuccessfulSyncAt?.getTime() ?? lastPersisted;
  return {
    queueSize: metrics.queueSize,
    failedOperations: failed,
    uploadsPending: metrics.uploadsPending,
    ...(metrics.dbSizeBytes !== null ? { dbSizeBytes: metrics.dbSizeBytes } : {}),
    lastSyncAgeSeconds: last === null ? null : Math.max(0, Math.round((now - last) / 1000)),
  };
}
