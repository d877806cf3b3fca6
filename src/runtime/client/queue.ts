/**
 * The operation queue: one row per local change waiting for the server, in
 * the `operation_queue` table, so it survives restarts. Changes are written
 * in the same WatermelonDB batch as the record they describe (atomic), and
 * coalesced while they wait:
 *
 *   insert + update  -> insert (payloads merged)
 *   insert + delete  -> nothing (the record never reaches the server)
 *   update + update  -> update (payloads merged)
 *   update + delete  -> delete
 *
 * An operation that is being sent (`sending`) is never merged into: a change
 * made during a push is queued behind it. Nor is a change merged into an
 * operation that may already have reached the server (sent before, answer
 * lost): it waits behind it, and is sent once the replay has told the device
 * the server's version.
 *   - after an insert, the server answers a replayed create with its existing
 *     copy and would drop a merged update;
 *   - after an update, a merged change would carry the base version from before
 *     the device's own first write, so the server would see a stale base and
 *     judge it against a stamp from another clock (the timestamp rule), and the
 *     device's later value could lose to its own earlier one.
 * An insert the server refused (a per-item code, `refusedInsert`) is sent again with
 * the record's current values (push.ts), so a later change that makes it valid (a
 * move to a parent the user may read) lets the create through; the later changes
 * still wait behind it, because a delayed copy of an earlier attempt may have
 * created the record after all.
 */
import { Q } from '@nozbe/watermelondb';
import type { Collection, Database } from '@nozbe/watermelondb';

import { SyncErrorCode } from '../../contract/errors.js';
import { newId } from './ids.js';
import { OperationRecord, RUNTIME_TABLES } from './tables.js';
import type { OperationKind, OperationStatus } from './tables.js';

export interface QueuedChange {
  operation: OperationKind;
  /** Wire-shaped field values (foreign keys hold local ids; translated at push). */
  payload: Record<string, unknown>;
  /**
   * Update only: wire values the changed fields had before the device changed
   * them (what it last saw from the server). Sent as `_base` for field-level merge.
   */
  base?: Record<string, unknown>;
  /** The operation may already have reached the server (it was sent, or interrupted while sending). */
  maybeSent?: boolean;
}

export interface PendingChange extends QueuedChange {
  entity: string;
  entityId: string;
  /** Version of the record when the change was made (informational; push uses the record's current version). */
  baseVersion?: number | null;
}

export type CoalesceDecision =
  | { kind: 'append' }
  | { kind: 'replace'; operation: OperationKind; payload: Record<string, unknown>; base?: Record<string, unknown> }
  | { kind: 'cancel' };

/**
 * How a new change combines with the latest waiting operation of the same record. Pure.
 * An insert that may already have reached the server is not cancelled by a
 * delete: it becomes a delete by clientId (the server removes its copy if any).
 */
export function coalesce(previous: QueuedChange | null, next: QueuedChange): CoalesceDecision {
  if (!previous) return { kind: 'append' };
  const merged = { ...previous.payload, ...next.payload };
  switch (previous.operation) {
    case 'insert':
      if (next.operation === 'update')
        return previous.maybeSent ? { kind: 'append' } : { kind: 'replace', operation: 'insert', payload: merged };
      if (next.operation === 'delete')
        return previous.maybeSent ? { kind: 'replace', operation: 'delete', payload: {} } : { kind: 'cancel' };
      break;
    case 'update':
      if (previous.maybeSent) return { kind: 'append' };
      // The earliest base of a field wins: it is what the server last had.
      if (next.operation === 'update') {
        if (!previous.base && !next.base) return { kind: 'replace', operation: 'update', payload: merged };
        return { kind: 'replace', operation: 'update', payload: merged, base: { ...next.base, ...previous.base } };
      }
      // The delete keeps the update's payload and base (not sent): `undo` turns it back into that update.
      if (next.operation === 'delete')
        return previous.base
          ? {
              kind: 'replace',
              operation: 'delete',
              payload: previous.payload,
              base: previous.base,
            }
          : { kind: 'replace', operation: 'delete', payload: previous.payload };
      break;
    case 'delete':
      if (next.operation === 'delete') return { kind: 'replace', operation: 'delete', payload: {} };
      break;
  }
  throw new Error(`Cannot queue ${next.operation} after ${previous.operation} for the same record`);
}

/**
 * Folds a record's waiting operations (oldest first) into at most one. Pure.
 * Not for a group whose first operation may have been sent and keeps the next
 * apart (see `coalesce`); `foldable` says so.
 */
export function foldChanges(changes: QueuedChange[]): QueuedChange | null {
  let current: QueuedChange | null = null;
  for (const change of changes) {
    const previous: QueuedChange | null = current;
    const decision = coalesce(previous, change);
    if (decision.kind === 'append' && previous) throw new Error('foldChanges: these operations cannot be folded into one');
    if (decision.kind === 'append') current = change;
    else if (decision.kind === 'replace') {
      const next: QueuedChange = {
        operation: decision.operation,
        payload: decision.payload,
        maybeSent: Boolean(previous?.maybeSent || change.maybeSent),
      };
      if (decision.base) next.base = decision.base;
      current = next;
    } else current = null;
  }
  return current;
}

/** Whether `foldChanges` can fold these operations (oldest first) into one. */
export function foldable(changes: QueuedChange[]): boolean {
  const [first, second] = changes;
  if (!first?.maybeSent || !second) return true;
  return !((first.operation === 'insert' && second.operation === 'update') || first.operation === 'update');
}

/** A planned enqueue: what `prepare` will write. Obtain it with `plan`. */
export interface EnqueuePlan {
  change: PendingChange;
  decision: CoalesceDecision;
  target: OperationRecord | null;
}

const OPEN: OperationStatus[] = ['pending', 'sending', 'failed'];

/** Ids per look-up query of the batch writes (an `IN (...)` list). */
export const LOOKUP_CHUNK = 500;

/** How `change` joins `latest`, the record's latest waiting operation (none, or being sent: appended). Pure. */
export function planAgainst(change: PendingChange, latest: OperationRecord | null): EnqueuePlan {
  if (!latest || latest.status === 'sending') return { change, decision: { kind: 'append' }, target: null };
  return { change, decision: coalesce(queuedChangeOf(latest), change), target: latest };
}

/** Per-item codes of the server: an operation whose last error starts with one was answered. */
const SERVER_CODES = new Set<string>(Object.values(SyncErrorCode));
const GIVEN_UP_PREFIX = /^gave up: /;

/**
 * An insert the server refused on its last attempt: a per-item error code, not a lost
 * answer or a hook's refusal. The server had no copy then (a create is answered from
 * the existing copy before anything is checked), but a delayed copy of an earlier
 * attempt may still arrive, so it counts as maybe sent all the same.
 */
export function refusedInsert(op: Pick<OperationRecord, 'operation' | 'attempts' | 'lastError'>): boolean {
  if (op.operation !== 'insert' || op.attempts === 0 || !op.lastError) return false;
  const code = /^([A-Z_]+): /.exec(op.lastError.replace(GIVEN_UP_PREFIX, ''))?.[1];
  return code !== undefined && SERVER_CODES.has(code);
}

/** The queued change a stored operation represents. */
export function queuedChangeOf(op: OperationRecord): QueuedChange {
  const change: QueuedChange = { operation: op.operation, payload: op.payload, maybeSent: op.attempts > 0 };
  const base = op.base;
  if (base) change.base = base;
  return change;
}

export function byQueueOrder(a: OperationRecord, b: OperationRecord): number {
  return a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class OperationQueue {
  constructor(readonly database: Database) {}

  get collection(): Collection<OperationRecord> {
    return this.database.get<OperationRecord>(RUNTIME_TABLES.operationQueue);
  }

  /** Operations not yet acknowledged, oldest first; optionally for one entity / some records. */
  async open(entity?: string, entityIds?: string[]): Promise<OperationRecord[]> {
    const clauses = [Q.where('status', Q.oneOf(OPEN))];
    if (entity) clauses.push(Q.where('entity', entity));
    if (entityIds) clauses.push(Q.where('entity_id', Q.oneOf(entityIds)));
    const ops = await this.collection.query(...clauses).fetch();
    return ops.sort(byQueueOrder);
  }

  async all(): Promise<OperationRecord[]> {
    return (await this.collection.query().fetch()).sort(byQueueOrder);
  }

  /** Number of operations waiting (pending, sending or failed). */
  async size(entity?: string): Promise<number> {
    const clauses = [Q.where('status', Q.oneOf(OPEN))];
    if (entity) clauses.push(Q.where('entity', entity));
    return this.collection.query(...clauses).fetchCount();
  }

  /** Record ids (of `entity`) that have a waiting operation. */
  async recordsWithOpenOps(entity: string, entityIds?: readonly string[]): Promise<Set<string>> {
    const ops = entityIds ? await this.openFor(entity, entityIds) : await this.open(entity);
    return new Set(ops.map((op) => op.entityId));
  }

  /** Step 1 (async, inside a writer): look at what is queued for the record. */
  async plan(change: PendingChange): Promise<EnqueuePlan> {
    const ops = await this.open(change.entity, [change.entityId]);
    return planAgainst(change, ops[ops.length - 1] ?? null);
  }

  /**
   * The waiting operations of some records of `entity`, oldest first, for any number of
   * ids: up to LOOKUP_CHUNK ids, one `IN` query; more, one pass over the entity's waiting
   * operations, filtered here (an `IN` list of thousands of ids is escaped and encoded id
   * by id, then served from the index one id at a time: 186 of the 292 ms of planning a
   * 100k initial pull).
   */
  async openFor(entity: string, entityIds: readonly string[]): Promise<OperationRecord[]> {
    if (entityIds.length === 0) return [];
    if (entityIds.length <= LOOKUP_CHUNK) return this.open(entity, [...entityIds]);
    const wanted = new Set(entityIds);
    return (await this.open(entity)).filter((op) => wanted.has(op.entityId));
  }

  /**
   * Step 1 for many records of one entity (inside a writer): the latest waiting
   * operation of each (see `openFor`). `planAgainst` then plans each change exactly
   * as `plan` would.
   */
  async latestOpen(entity: string, entityIds: readonly string[]): Promise<Map<string, OperationRecord>> {
    const latest = new Map<string, OperationRecord>();
    // Oldest first: the last one seen per record is its latest.
    for (const op of await this.openFor(entity, entityIds)) latest.set(op.entityId, op);
    return latest;
  }

  /** Step 2 (synchronous, right before `database.batch`): the prepared queue rows. */
  prepare(plan: EnqueuePlan, now: number = Date.now()): OperationRecord[] {
    const { change, decision, target } = plan;
    if (decision.kind === 'append') return [this.prepareAppend(change, now)];
    if (!target) return [];
    if (decision.kind === 'cancel') return [target.prepareDestroyPermanently()];
    return [
      target.prepareUpdate((op) => {
        op._setRaw('operation', decision.operation);
        op._setRaw('payload', JSON.stringify(decision.payload));
        op._setRaw('snapshot', decision.base ? JSON.stringify(decision.base) : null);
        op._setRaw('status', 'pending');
        op._setRaw('updated_at', now);
      }),
    ];
  }

  /**
   * The queued insert of a record created with a fresh id (nothing can be queued for it
   * yet): what `prepare(planAgainst(change, null))` returns, without the plan.
   */
  prepareInsert(entity: string, entityId: string, payload: Record<string, unknown>, now: number): OperationRecord {
    return this.prepareAppend({ entity, entityId, operation: 'insert', payload, baseVersion: 0 }, now);
  }

  /** A new queue row for `change`, straight from its raw columns (one pass, not one _setRaw per column). */
  private prepareAppend(change: PendingChange, now: number): OperationRecord {
    return this.collection.prepareCreateFromDirtyRaw({
      id: newId(),
      entity: change.entity,
      operation: change.operation,
      entity_id: change.entityId,
      payload: JSON.stringify(change.payload),
      status: 'pending',
      attempts: 0,
      last_error: null,
      base_version: change.baseVersion ?? null,
      snapshot: change.base ? JSON.stringify(change.base) : null,
      created_at: now,
      updated_at: now,
    });
  }

  // ---------------------------------------------------------------- column writes
  // Every change of a queued operation's status, attempts, error or payload after it
  // was queued: prepared here (for `database.batch`), never written by callers.

  /** Being sent: read, built and marked in one writer, so no local change slips in between. */
  prepareSending(op: OperationRecord, adjustedPayload?: Record<string, unknown>): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'sending');
      if (adjustedPayload) o._setRaw('payload', JSON.stringify(adjustedPayload)); // a beforePush hook's values
    });
  }

  /** A failed attempt (the error cut to 2,000 characters); a later sync sends it again. */
  prepareFailed(op: OperationRecord, message: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'failed');
      o._setRaw('attempts', op.attempts + 1);
      o._setRaw('last_error', message.slice(0, 2000));
    });
  }

  /** Pending again as it was, no attempt counted: the request was refused before anything was applied (credentials). */
  prepareWaiting(op: OperationRecord, reason: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'pending');
      o._setRaw('last_error', reason.slice(0, 2000));
    });
  }

  /** Pending again for another attempt (attempts + 1), with why: a crash while sending, a rebase onto the server version. */
  prepareRetry(op: OperationRecord, reason: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'pending');
      o._setRaw('attempts', op.attempts + 1);
      o._setRaw('last_error', reason);
    });
  }

  /** Waiting for the user on a conflict (`conflicts` row `conflictId`): not sent until it is resolved. */
  prepareAwaitConflict(op: OperationRecord, message: string, conflictId: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'failed');
      o._setRaw('attempts', op.attempts + 1);
      o._setRaw('last_error', message);
      o._setRaw('conflict_id', conflictId);
    });
  }

  /** Rebased as an update of `payload` over `base` (a merge settled on the device), pending again. */
  prepareRebase(op: OperationRecord, payload: Record<string, unknown>, base: Record<string, unknown>): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('operation', 'update');
      o._setRaw('payload', JSON.stringify(payload));
      o._setRaw('snapshot', JSON.stringify(base));
      o._setRaw('status', 'pending');
      o._setRaw('last_error', null);
    });
  }

  /** The record's waiting operations folded into this one (`folded`, see foldChanges); edited last at `editedAt`. */
  prepareFold(op: OperationRecord, folded: QueuedChange, editedAt: number): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('operation', folded.operation);
      o._setRaw('payload', JSON.stringify(folded.payload));
      o._setRaw('snapshot', folded.base ? JSON.stringify(folded.base) : null);
      if (folded.maybeSent && op.attempts === 0) o._setRaw('attempts', 1);
      o._setRaw('status', 'pending');
      o._setRaw('updated_at', editedAt);
    });
  }

  /** A given-up operation eligible again: pending, attempts from 0. */
  prepareRestart(op: OperationRecord): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'pending');
      o._setRaw('attempts', 0);
    });
  }

  /**
   * A conflict the user settled: pending again, no conflict, no error; with `payload`
   * its new payload (a delete becomes an update of it).
   */
  prepareResolved(op: OperationRecord, payload: Record<string, unknown> | null, now: number): OperationRecord {
    return op.prepareUpdate((o) => {
      if (payload) {
        o._setRaw('payload', JSON.stringify(payload));
        if (op.operation === 'delete') o._setRaw('operation', 'update');
      }
      o._setRaw('status', 'pending');
      o._setRaw('conflict_id', null);
      o._setRaw('last_error', null);
      o._setRaw('updated_at', now);
    });
  }

  /** An undone delete that had an update folded in: the update is queued again. */
  prepareReopenAsUpdate(op: OperationRecord, now: number): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('operation', 'update');
      o._setRaw('status', 'pending');
      o._setRaw('updated_at', now);
    });
  }

  /** Plans and writes one change on its own (inside a writer). Returns the decision. */
  async enqueue(change: PendingChange): Promise<CoalesceDecision> {
    const plan = await this.plan(change);
    await this.database.batch(...this.prepare(plan));
    return plan.decision;
  }
}
