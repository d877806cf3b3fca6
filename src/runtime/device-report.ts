/**
 * The wire shape of a device's metrics report, shared by the client runtime (which
 * sends it, opt-in) and the server runtime (which validates and aggregates it).
 * No dependencies, so either side can import it.
 */

/** Request header carrying the report as JSON, once per sync run. */
export const CLIENT_METRICS_HEADER = 'x-trackhub-client-metrics';

/** Counts and sizes only: no ids, no tenant, no record data. */
export interface DeviceMetricsReport {
  /** Operations waiting for the server (pending, sending or failed). */
  queueSize: number;
  /** Operations the server refused that wait for a retry (or were given up). */
  failedOperations: number;
  uploadsPending: number;
  /** Omitted when unknown. */
  dbSizeBytes?: number;
  /** Seconds since the last successful sync by the device's clock; null = never synced. */
  lastSyncAgeSeconds: number | null;
}
