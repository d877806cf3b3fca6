/**
 * The device's side of the conflict table (PRODUCT.md, "Conflict resolution"):
 * what one pushed item's answer means, as a pure decision. settle() in push.ts
 * turns the outcome into writes and counters; nothing here reads or writes.
 *
 *   no answer / an error          -> failed (given up after maxItemAttempts refusals; at once for PARENT_DELETED)
 *   DELETE_RESTRICTED on a delete -> server (the record is restored from the server's copy)
 *   success (or deleting a gone)  -> succeeded (a conflict the server settled is recorded)
 *   CONFLICT                      -> the entity's strategy, or the app's onConflict:
 *     serverWins / clientWins / timestamp  -> server (adopt the server's copy)
 *     timestamp with equal times           -> manual
 *     merge with a suggestion that changes something -> merge, else server
 *     manual                               -> manual
 *     forcePushLocal                       -> local (rebase onto the server version, push again)
 *   without the server's copy `server` and `merge` become manual; without its version
 *   (or the local record) `local` becomes manual.
 */
import { PERMANENT_ITEM_ERRORS, SyncErrorCode } from '../../../contract/errors.js';
import { isoToMillis } from '../codec.js';
import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import type { OperationKind } from '../tables.js';
import type { SyncResultItem } from '../transport.js';
import { GAVE_UP, isObject, type ConflictDecision } from './types.js';

/** What the decision needs of a queued operation. */
export interface PushedOperation {
  operation: OperationKind;
  attempts: number;
  /** Device time of its latest change (epoch ms; 0 when unknown). */
  editedAt: number;
  /** When it was queued (epoch ms). */
  queuedAt: number;
}

export type PushOutcome =
  | { kind: 'failed'; message: string; givenUp: boolean }
  | {
      kind: 'succeeded';
      /** The server settled a conflict itself (clientWins / merge): recorded as resolved this way. */
      settledConflict: 'local' | 'merge' | null;
      /** The answer came from a server copy others changed: pull again from this updatedAt (epoch ms). */
      rewindTo: number | null;
      /**
       * The answer has the version this item's own write makes, stamped here (epoch ms). An own
       * write is stamped after every position a pull handed out; a stamp at or before the
       * stream's position means the server wrote nothing (it held these values already) and the
       * version is someone else's write, which a pull may have passed while this item waited.
       */
      ownStampAt: number | null;
    }
  | { kind: 'conflict'; decision: 'server'; serverData: Record<string, unknown> }
  | {
      kind: 'conflict';
      decision: 'merge';
      /** The device's non-clashing changes, pushed again on top of the server's copy. */
      payload: Record<string, unknown>;
      /** The server's values of those fields: the new base of the update. */
      base: Record<string, unknown>;
      /** The record as the device keeps it meanwhile: server copy + payload, at the server version. */
      adopted: Record<string, unknown>;
    }
  | { kind: 'conflict'; decision: 'local'; serverVersion: number }
  | { kind: 'conflict'; decision: 'manual'; message: string };

/** Writable fields where a merge suggestion differs from the server's copy. */
export function mergeChanges(
  entity: EntityDescriptor,
  serverData: Record<string, unknown>,
  suggestion: Record<string, unknown>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of entity.fields) {
    if (field.access === 'readonly' || !(field.name in suggestion)) continue;
    if (JSON.stringify(suggestion[field.name] ?? null) !== JSON.stringify(serverData[field.name] ?? null))
      changes[field.name] = suggestion[field.name];
  }
  return changes;
}

/** The decision the entity's strategy takes for a CONFLICT answer (before the app's onConflict). */
export function defaultDecision(
  entity: Pick<EntityDescriptor, 'conflict' | 'fields'>,
  op: Pick<PushedOperation, 'editedAt' | 'queuedAt'>,
  result: SyncResultItem,
): ConflictDecision {
  const conflict = result.conflict ?? {};
  const strategy = entity.conflict;
  if (strategy === 'manual') return 'manual';
  if (strategy === 'merge' && isObject(conflict.resolutionSuggested) && isObject(conflict.serverData)) {
    return Object.keys(mergeChanges(entity as EntityDescriptor, conflict.serverData, conflict.resolutionSuggested)).length > 0
      ? 'merge'
      : 'server';
  }
  if (strategy === 'timestamp') {
    const serverTime = isoToMillis(conflict.serverData?.updatedAt);
    const localTime = op.editedAt || op.queuedAt;
    if (serverTime !== null && serverTime === localTime) return 'manual';
  }
  return 'server';
}

/** The server version a conflict answer names (its `serverVersion`, else its copy's `version`). */
export function conflictServerVersion(conflict: SyncResultItem['conflict']): number | null {
  const serverData = conflict?.serverData ?? null;
  return conflict?.serverVersion ?? (isObject(serverData) && typeof serverData.version === 'number' ? serverData.version : null);
}

export interface PushOutcomeInput {
  entity: EntityDescriptor;
  op: PushedOperation;
  /** The item as pushed. */
  item: WireItem;
  /** Its answer, or undefined when the server's answer had none for it. */
  result: SyncResultItem | undefined;
  /** The local record still exists. */
  hasRecord: boolean;
  /** forcePushLocal: the device's change wins every conflict. */
  force?: 'local';
  /** Refusals before the operation is given up (0 = never). */
  maxItemAttempts: number;
  /** The app's onConflict, given the suggested decision. */
  policy?: (suggested: ConflictDecision) => ConflictDecision | undefined;
}

export function decidePushOutcome(input: PushOutcomeInput): PushOutcome {
  const { entity, op, item, result } = input;
  if (!result) return { kind: 'failed', message: 'No result for this item in the syncPush answer', givenUp: false };
  const deleteGone = op.operation === 'delete' && !result.success && result.errorCode === SyncErrorCode.NOT_FOUND;
  if (result.success || deleteGone) {
    // A success whose version is not the one this item's own write makes (1 for a create, base + 1
    // for an update) answered from a server copy that others changed (e.g. a replayed create of a
    // record another device has since deleted). A pull may have skipped that copy while this
    // operation waited, and no new write will bring it back: pull again from its updatedAt.
    const expected = typeof item.version === 'number' ? item.version + 1 : 1;
    const at = isoToMillis(result.updatedAt);
    const versioned = op.operation !== 'delete' && typeof result.version === 'number' && at !== null;
    const rewindTo = versioned && result.version !== expected ? at : null;
    const ownStampAt = versioned && result.version === expected ? at : null;
    const settledConflict = result.conflict ? (entity.conflict === 'merge' ? 'merge' : 'local') : null;
    return { kind: 'succeeded', settledConflict, rewindTo, ownStampAt };
  }
  // A delete the server refused (a relation's onDelete: Restrict): the record comes back as the server has it.
  if (op.operation === 'delete' && result.errorCode === SyncErrorCode.DELETE_RESTRICTED && isObject(result.conflict?.serverData)) {
    return { kind: 'conflict', decision: 'server', serverData: result.conflict!.serverData as Record<string, unknown> };
  }
  const isConflict = result.errorCode === SyncErrorCode.CONFLICT || (result.conflict !== null && result.conflict !== undefined);
  if (!isConflict) {
    const message = `${result.errorCode ?? 'ERROR'}: ${result.errorMessage ?? 'push failed'}`;
    const permanent = PERMANENT_ITEM_ERRORS.includes(result.errorCode as SyncErrorCode);
    const givenUp = permanent || (input.maxItemAttempts > 0 && op.attempts + 1 >= input.maxItemAttempts);
    return { kind: 'failed', message: givenUp ? `${GAVE_UP}${message}` : message, givenUp };
  }
  const suggested = input.force === 'local' ? 'local' : defaultDecision(entity, op, result);
  let decision = input.policy?.(suggested) ?? suggested;
  const serverData = result.conflict?.serverData ?? null;
  const serverVersion = conflictServerVersion(result.conflict);
  // Without the server's copy (or version) only the user can settle it.
  if ((decision === 'server' || decision === 'merge') && !isObject(serverData)) decision = 'manual';
  if (decision === 'local' && (serverVersion === null || !input.hasRecord)) decision = 'manual';
  if (decision === 'server' && isObject(serverData)) return { kind: 'conflict', decision, serverData };
  if (decision === 'merge' && isObject(serverData)) {
    // Keep the server's copy plus the device's non-clashing changes, and push those again on top of it.
    const suggestion = isObject(result.conflict?.resolutionSuggested) ? (result.conflict!.resolutionSuggested as Record<string, unknown>) : {};
    const payload = mergeChanges(entity, serverData, suggestion);
    const base: Record<string, unknown> = {};
    for (const key of Object.keys(payload)) base[key] = serverData[key] ?? null;
    const adopted = { ...serverData, ...payload, version: serverVersion ?? serverData.version };
    return { kind: 'conflict', decision, payload, base, adopted };
  }
  if (decision === 'local' && serverVersion !== null) return { kind: 'conflict', decision, serverVersion };
  return { kind: 'conflict', decision: 'manual', message: `CONFLICT: ${result.errorMessage ?? 'waiting for resolution'}` };
}
