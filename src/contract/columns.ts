/**
 * Device-side table and column names of the contract: the sync columns every
 * entity table has, and the runtime's own tables (operation queue, sync state,
 * uploads, conflicts). Plain data, no imports: the generator emits them, the
 * client runtime wraps them in WatermelonDB schemas (runtime/client/tables.ts).
 */

/** Column description in WatermelonDB's `tableSchema` shape. */
export interface ColumnSpec {
  name: string;
  type: 'string' | 'number' | 'boolean';
  isOptional?: boolean;
  isIndexed?: boolean;
}

/** Columns every entity table has besides its data fields. */
export const SYNC_COLUMNS = {
  serverId: 'server_id',
  clientId: 'client_id',
  version: 'version',
  serverUpdatedAt: 'server_updated_at',
  deletedAt: 'deleted_at',
} as const;

/** The schema of those columns, on every entity table the generated client schema declares. */
export const SYNC_COLUMN_SCHEMAS: readonly ColumnSpec[] = [
  { name: SYNC_COLUMNS.serverId, type: 'string', isOptional: true, isIndexed: true },
  { name: SYNC_COLUMNS.clientId, type: 'string', isOptional: true, isIndexed: true },
  { name: SYNC_COLUMNS.version, type: 'number' },
  { name: SYNC_COLUMNS.serverUpdatedAt, type: 'number', isOptional: true },
  { name: SYNC_COLUMNS.deletedAt, type: 'number', isOptional: true },
];

/** Column names WatermelonDB itself keeps on every table. */
export const WATERMELON_COLUMNS = ['id', '_status', '_changed'] as const;

export const RUNTIME_TABLES = {
  operationQueue: 'operation_queue',
  syncState: 'sync_state',
  uploads: 'uploads',
  conflicts: 'conflicts',
  syncScopes: 'sync_scopes',
} as const;

export interface RuntimeTableSpec {
  name: string;
  columns: readonly ColumnSpec[];
}

export const OPERATION_QUEUE_TABLE: RuntimeTableSpec = {
  name: RUNTIME_TABLES.operationQueue,
  columns: [
    { name: 'entity', type: 'string', isIndexed: true },
    { name: 'operation', type: 'string' },
    { name: 'entity_id', type: 'string', isIndexed: true },
    { name: 'payload', type: 'string' },
    { name: 'status', type: 'string', isIndexed: true },
    { name: 'attempts', type: 'number' },
    { name: 'last_error', type: 'string', isOptional: true },
    { name: 'base_version', type: 'number', isOptional: true },
    { name: 'snapshot', type: 'string', isOptional: true },
    { name: 'conflict_id', type: 'string', isOptional: true },
    { name: 'created_at', type: 'number' },
    { name: 'updated_at', type: 'number' },
  ],
};

export const SYNC_STATE_TABLE: RuntimeTableSpec = {
  name: RUNTIME_TABLES.syncState,
  columns: [
    { name: 'entity', type: 'string', isIndexed: true },
    { name: 'last_sync_at', type: 'string', isOptional: true },
    { name: 'cursor', type: 'string', isOptional: true },
    // The scope root's server id for a scoped entity's per-scope stream; null for the tenant-wide stream.
    { name: 'scope', type: 'string', isOptional: true, isIndexed: true },
    { name: 'server_version_hash', type: 'string', isOptional: true },
    { name: 'updated_at', type: 'number' },
  ],
};

export const UPLOADS_TABLE: RuntimeTableSpec = {
  name: RUNTIME_TABLES.uploads,
  columns: [
    { name: 'entity', type: 'string', isOptional: true },
    { name: 'entity_id', type: 'string', isOptional: true, isIndexed: true },
    { name: 'field', type: 'string', isOptional: true },
    { name: 'local_path', type: 'string' },
    { name: 'remote_url', type: 'string', isOptional: true },
    { name: 'status', type: 'string', isIndexed: true },
    { name: 'attempts', type: 'number' },
    { name: 'last_error', type: 'string', isOptional: true },
    { name: 'meta', type: 'string', isOptional: true },
    { name: 'created_at', type: 'number' },
    { name: 'updated_at', type: 'number' },
  ],
};

export const CONFLICTS_TABLE: RuntimeTableSpec = {
  name: RUNTIME_TABLES.conflicts,
  columns: [
    { name: 'entity', type: 'string', isIndexed: true },
    { name: 'entity_id', type: 'string', isIndexed: true },
    { name: 'operation', type: 'string', isOptional: true },
    { name: 'local_data', type: 'string' },
    { name: 'server_data', type: 'string', isOptional: true },
    { name: 'suggested_data', type: 'string', isOptional: true },
    { name: 'local_version', type: 'number', isOptional: true },
    { name: 'server_version', type: 'number', isOptional: true },
    { name: 'conflict_type', type: 'string' },
    { name: 'resolved', type: 'boolean', isIndexed: true },
    { name: 'resolution', type: 'string', isOptional: true },
    { name: 'created_at', type: 'number' },
    { name: 'resolved_at', type: 'number', isOptional: true },
  ],
};

/** The device's scope subscriptions (partial sync): one row per subscribed scope root. */
export const SYNC_SCOPES_TABLE: RuntimeTableSpec = {
  name: RUNTIME_TABLES.syncScopes,
  columns: [
    { name: 'entity', type: 'string', isIndexed: true },
    { name: 'record_id', type: 'string', isIndexed: true },
    { name: 'server_id', type: 'string', isOptional: true },
    { name: 'status', type: 'string' },
    { name: 'created_at', type: 'number' },
  ],
};

/** Every runtime table, in the order the generated schema lists them. */
export const RUNTIME_TABLE_SPECS: readonly RuntimeTableSpec[] = [OPERATION_QUEUE_TABLE, SYNC_STATE_TABLE, UPLOADS_TABLE, CONFLICTS_TABLE, SYNC_SCOPES_TABLE];
