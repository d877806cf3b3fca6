/**
 * The names of every metric the server runtime registers (metrics.ts). No
 * dependencies, so the generator's ops emitter (dashboard, alert rules) reads
 * the same names without loading prom-client.
 */
/** Every metric name the runtime registers (the generated dashboard and alerts use only these). */
export const METRIC = {
  requests: 'trackhub_sync_requests_total',
  pushDuration: 'trackhub_sync_push_duration_seconds',
  pullDuration: 'trackhub_sync_pull_duration_seconds',
  itemsPushed: 'trackhub_sync_items_pushed_total',
  itemsPulled: 'trackhub_sync_items_pulled_total',
  conflicts: 'trackhub_sync_conflicts_total',
  itemErrors: 'trackhub_sync_item_errors_total',
  batchSize: 'trackhub_sync_batch_size',
  crudRequests: 'trackhub_crud_requests_total',
  crudDuration: 'trackhub_crud_duration_seconds',
  mediaUploads: 'trackhub_media_uploads_total',
  mediaUploadBytes: 'trackhub_media_upload_bytes_total',
  internalErrors: 'trackhub_internal_errors_total',
  clientReports: 'trackhub_client_reports_total',
  clientQueueSize: 'trackhub_client_queue_size',
  clientFailedOperations: 'trackhub_client_failed_operations',
  clientUploadsPending: 'trackhub_client_uploads_pending',
  clientDbSize: 'trackhub_client_db_size_bytes',
  clientLastSyncAge: 'trackhub_client_last_sync_age_seconds',
} as const;
