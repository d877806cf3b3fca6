/**
 * `trackhub-gen inspect <device-db-file> [--json]`: what a device database
 * holds, read-only (better-sqlite3 `readonly`, `fileMustExist`): waiting and
 * failed operations, conflicts, uploads, the pull position per entity, row
 * counts per entity table and the file size. Table names come from the client
 * runtime (RUNTIME_TABLES), so the inspector follows the runtime.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { RUNTIME_TABLES, SYNC_COLUMNS } from '../contract/columns.js';
import { GAVE_UP } from '../runtime/client/engine.js';
import { InspectError } from './errors.js';

/** Not a trackhub device database (or unreadable): the CLI exits 2. */
export { InspectError };

export interface InspectedOperation {
  entity: string;
  operation: string;
  entityId: string;
  status: string;
  attempts: number;
  /** The operation was refused `maxItemAttempts` times and is no longer sent. */
  givenUp: boolean;
  lastError: string | null;
  /** Names of the fields the operation changes (values are not shown). */
  fields: string[];
  queuedAt: string | null;
}

export interface DeviceInspection {
  file: string;
  /** From the file name `trackhub_db_{tenantId}.db`, when it has that form. */
  tenantId: string | null;
  /** The file with its -wal / -journal companions. */
  sizeBytes: number;
  /** WatermelonDB schema version (SQLite user_version). */
  schemaVersion: number;
  /** Entity tables: rows, and rows the server has not acknowledged yet (no server id). */
  tables: { table: string; rows: number; notOnServer: number | null }[];
  syncState: { entity: string; lastSyncAt: string | null; cursor: string | null; updatedAt: string | null }[];
  queue: { total: number; byStatus: Record<string, number>; operations: InspectedOperation[] };
  conflicts: {
    open: number;
    resolved: number;
    items: {
      id: string;
      entity: string;
      entityId: string;
      operation: string | null;
      conflictType: string;
      localVersion: number | null;
      serverVersion: number | null;
      resolved: boolean;
      resolution: string | null;
      createdAt: string | null;
    }[];
  };
  uploads: {
    byStatus: Record<string, number>;
    items: { entity: string | null; entityId: string | null; field: string | null; localPath: string; status: string; attempts: number; lastError: string | null }[];
  };
}

/** WatermelonDB's own tables (not entity tables). */
const WATERMELON_TABLES = new Set(['local_storage', 'sqlite_sequence']);

type SqlRow = Record<string, unknown>;

const iso = (ms: unknown): string | null => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function fileSize(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-journal']) {
    try {
      total += statSync(file + suffix).size;
    } catch {
      // no companion file
    }
  }
  return total;
}

function countBy(rows: readonly object[], key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const k = String((row as SqlRow)[key] ?? 'null');
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function payloadFields(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : [];
  } catch {
    return [];
  }
}

export function inspectDevice(file: string): DeviceInspection {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_CANTOPEN' || /does not exist/i.test((error as Error).message))
      throw new InspectError(`no such device database: ${file}`);
    throw new InspectError(`cannot open ${file}: ${(error as Error).message}`);
  }
  try {
    let tableNames: string[];
    try {
      tableNames = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    } catch (error) {
      throw new InspectError(`${file} is not a SQLite database (${(error as Error).message})`);
    }
    // The tables every device database has had (sync_scopes came with partial sync: a database not yet migrated lacks it).
    const runtime: string[] = [RUNTIME_TABLES.operationQueue, RUNTIME_TABLES.syncState, RUNTIME_TABLES.uploads, RUNTIME_TABLES.conflicts];
    const missing = runtime.filter((t) => !tableNames.includes(t));
    if (missing.length) {
      throw new InspectError(`${file} is not a trackhub device database: no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}`);
    }
    const all = (sql: string): SqlRow[] => db.prepare(sql).all() as SqlRow[];

    const tables = tableNames
      .filter((t) => !runtime.includes(t) && !WATERMELON_TABLES.has(t) && !t.startsWith('sqlite_'))
      .map((table) => {
        const columns = (db.pragma(`table_info(${quote(table)})`) as { name: string }[]).map((c) => c.name);
        const rows = (db.prepare(`SELECT COUNT(*) AS n FROM ${quote(table)}`).get() as { n: number }).n;
        const notOnServer = columns.includes(SYNC_COLUMNS.serverId)
          ? (db.prepare(`SELECT COUNT(*) AS n FROM ${quote(table)} WHERE ${SYNC_COLUMNS.serverId} IS NULL`).get() as { n: number }).n
          : null;
        return { table, rows, notOnServer };
      });

    const syncState = all(`SELECT entity, last_sync_at, cursor, updated_at FROM ${RUNTIME_TABLES.syncState} ORDER BY entity`).map((r) => ({
      entity: String(r.entity),
      lastSyncAt: str(r.last_sync_at),
      cursor: str(r.cursor),
      updatedAt: iso(r.updated_at),
    }));

    const ops = all(`SELECT * FROM ${RUNTIME_TABLES.operationQueue} ORDER BY created_at, id`);
    const operations: InspectedOperation[] = ops
      .filter((r) => r.status !== 'success')
      .map((r) => ({
        entity: String(r.entity),
        operation: String(r.operation),
        entityId: String(r.entity_id),
        status: String(r.status),
        attempts: num(r.attempts) ?? 0,
        givenUp: r.status === 'failed' && String(r.last_error ?? '').startsWith(GAVE_UP),
        lastError: str(r.last_error),
        fields: payloadFields(r.payload),
        queuedAt: iso(r.created_at),
      }));

    const conflictRows = all(`SELECT * FROM ${RUNTIME_TABLES.conflicts} ORDER BY created_at, id`);
    const conflicts = conflictRows.map((r) => ({
      id: String(r.id),
      entity: String(r.entity),
      entityId: String(r.entity_id),
      operation: str(r.operation),
      conflictType: String(r.conflict_type),
      localVersion: num(r.local_version),
      serverVersion: num(r.server_version),
      resolved: r.resolved === 1 || r.resolved === true,
      resolution: str(r.resolution),
      createdAt: iso(r.created_at),
    }));

    const uploadRows = all(`SELECT * FROM ${RUNTIME_TABLES.uploads} ORDER BY created_at, id`);
    const version = db.pragma('user_version', { simple: true });
    const base = path.basename(file);
    const tenant = /^trackhub_db_(.+)\.db$/.exec(base);
    return {
      file,
      tenantId: tenant ? tenant[1] : null,
      sizeBytes: fileSize(file),
      schemaVersion: typeof version === 'number' ? version : 0,
      tables,
      syncState,
      queue: { total: operations.length, byStatus: countBy(operations, 'status'), operations },
      conflicts: { open: conflicts.filter((c) => !c.resolved).length, resolved: conflicts.filter((c) => c.resolved).length, items: conflicts },
      uploads: {
        byStatus: countBy(uploadRows, 'status'),
        items: uploadRows.map((r) => ({
          entity: str(r.entity),
          entityId: str(r.entity_id),
          field: str(r.field),
          localPath: String(r.local_path),
          status: String(r.status),
          attempts: num(r.attempts) ?? 0,
          lastError: str(r.last_error),
        })),
      },
    };
  } finally {
    db.close();
  }
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function counts(byStatus: Record<string, number>): string {
  const entries = Object.entries(byStatus);
  return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

/** The human-readable report. */
export function formatInspection(r: DeviceInspection): string {
  const out: string[] = [];
  out.push(`device database ${r.file}`);
  out.push(`  tenant ${r.tenantId ?? '(unknown)'}, ${kb(r.sizeBytes)}, schema version ${r.schemaVersion}`);
  out.push('', 'sync state (pull position per entity)');
  if (r.syncState.length === 0) out.push('  never pulled');
  for (const s of r.syncState) out.push(`  ${s.entity.padEnd(16)} lastSyncAt ${s.lastSyncAt ?? '-'}  pulled at ${s.updatedAt ?? '-'}  cursor ${s.cursor ? 'yes' : 'no'}`);
  out.push('', 'entity tables');
  for (const t of r.tables) out.push(`  ${t.table.padEnd(16)} ${String(t.rows).padStart(6)} rows${t.notOnServer ? `, ${t.notOnServer} not on the server yet` : ''}`);
  out.push('', `operation queue: ${r.queue.total} waiting (${counts(r.queue.byStatus)})`);
  for (const op of r.queue.operations) {
    const state = op.givenUp ? 'given up' : op.status;
    out.push(`  ${state.padEnd(8)} ${op.entity} ${op.operation} ${op.entityId} attempts ${op.attempts} fields [${op.fields.join(', ')}]${op.lastError ? `  last error: ${op.lastError}` : ''}`);
  }
  out.push('', `conflicts: ${r.conflicts.open} open, ${r.conflicts.resolved} resolved`);
  for (const c of r.conflicts.items) {
    out.push(`  ${(c.resolved ? `resolved (${c.resolution ?? '-'})` : 'open').padEnd(18)} ${c.entity} ${c.entityId} ${c.conflictType} local v${c.localVersion ?? '-'} server v${c.serverVersion ?? '-'}`);
  }
  out.push('', `uploads: ${counts(r.uploads.byStatus)}`);
  for (const u of r.uploads.items) {
    out.push(`  ${u.status.padEnd(8)} ${u.entity ?? '-'}.${u.field ?? '-'} ${u.entityId ?? '-'} ${u.localPath} attempts ${u.attempts}${u.lastError ? `  last error: ${u.lastError}` : ''}`);
  }
  return out.join('\n');
}
