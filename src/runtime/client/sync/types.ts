/**
 * The sync engine's public types (reports, metrics, conflict policy and
 * records) and the small helpers its phases share.
 */
import type { Model } from '@nozbe/watermelondb';

import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import type { OperationRecord } from '../tables.js';
import type { SyncResultItem } from '../transport.js';
import type { ClientHooksByEntity } from '../hooks.js';

export interface SyncEngineOptions {
  /** Items per syncPush call (default 500; the server takes up to its maxBatchSize, default 1000). */
  pushBatchSize?: number;
  /** `limit` per syncPull page (default 1000). */
  pullLimit?: number;
  /** Override how a conflict the server refused is settled on the device. */
  onConflict?: ConflictPolicy;
  /**
   * Retry ceiling for an operation the server keeps refusing (a per-item error
   * such as VALIDATION_FAILED, not a network failure): after this many attempts
   * it is no longer sent and waits for `retryGivenUp()` (default 10; 0 = never give up).
   */
  maxItemAttempts?: number;
  /** Your per-entity hooks (beforePush, afterPull): see hooks.ts. */
  hooks?: ClientHooksByEntity;
  /** Called with an error an `afterPull` hook threw (sync goes on). Default: console.warn. */
  onHookError?: (error: unknown, where: { entity: string; hook: 'afterPull' }) => void;
}

/** `last_error` prefix of an operation the engine stopped sending (see `maxItemAttempts`). */
export const GAVE_UP = 'gave up: ';

/**
 * How the device settles a push the server refused as a conflict:
 * `server` adopts the server's data, `local` rebases onto the server version and
 * pushes again, `merge` adopts the server's suggested resolution and pushes it,
 * `manual` leaves it in `conflicts` for the user (the operation waits).
 */
export type ConflictDecision = 'server' | 'local' | 'merge' | 'manual';

export interface ConflictContext {
  entity: EntityDescriptor;
  operation: OperationRecord;
  pushed: WireItem;
  result: SyncResultItem;
  /** The decision the default rules would take. */
  suggested: ConflictDecision;
}

export type ConflictPolicy = (context: ConflictContext) => ConflictDecision | undefined;

export interface EntitySyncReport {
  entity: string;
  /** Items sent in syncPush calls. */
  pushed: number;
  succeeded: number;
  failed: number;
  conflicts: number;
  /** Items received in syncPull pages. */
  pulled: number;
  pages: number;
  /** Pulled items not applied because the record has a waiting local change. */
  keptLocal: number;
  /** Local records deleted by tombstones. */
  deleted: number;
  /** Local records dropped because they left what this device syncs (removals, a reset, an evicted scope). */
  removed: number;
}

export interface SyncReport {
  startedAt: Date;
  finishedAt: Date;
  entities: EntitySyncReport[];
}

export interface SyncMetrics {
  syncs: number;
  failedSyncs: number;
  lastSuccessfulSyncAt: Date | null;
  lastError: string | null;
  lastPushMs: number | null;
  lastPullMs: number | null;
  itemsPushed: number;
  itemsSucceeded: number;
  itemsFailed: number;
  itemsPulled: number;
  conflicts: number;
  /** Operations sent again after an earlier failure. */
  retries: number;
  /** Operations the engine stopped sending after `maxItemAttempts` refusals. */
  givenUp: number;
}

export interface ConflictInfo {
  id: string;
  entity: string;
  entityId: string;
  operation: string | null;
  conflictType: string;
  localData: WireItem | null;
  serverData: WireItem | null;
  suggestedData: unknown;
  localVersion: number | null;
  serverVersion: number | null;
  resolved: boolean;
  resolution: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export type ConflictResolution = 'server' | 'local' | { data: WireItem };

/** Any WatermelonDB record. */
export type AnyModel = Model;

export function emptyReport(entity: string): EntitySyncReport {
  return { entity, pushed: 0, succeeded: 0, failed: 0, conflicts: 0, pulled: 0, pages: 0, keptLocal: 0, deleted: 0, removed: 0 };
}

export function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function raw(record: AnyModel, column: string): unknown {
  return (record._raw as unknown as Record<string, unknown>)[column];
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export function isGivenUp(op: OperationRecord): boolean {
  return op.status === 'failed' && (op.lastError ?? '').startsWith(GAVE_UP);
}

export function* chunks<T>(values: T[], size: number): Generator<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size);
}
