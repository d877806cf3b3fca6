/**
 * The device's conflict decision (PRODUCT.md, "Conflict"), case by case: what one
 * pushed item's answer means for the queued operation.
 */
import { describe, expect, it } from 'vitest';

import type { ConflictStrategy, EntityDescriptor } from '../../src/runtime/client/descriptors.js';
import { decidePushOutcome, type PushOutcomeInput } from '../../src/runtime/client/sync/push-outcome.js';
import type { SyncResultItem } from '../../src/runtime/client/transport.js';

function entity(conflict: ConflictStrategy): EntityDescriptor {
  return {
    name: 'Note',
    table: 'notes',
    conflict,
    tombstone: 'deletedAt',
    parents: [],
    fields: [
      { name: 'title', column: 'title', kind: 'String', optional: false, access: 'synced' },
      { name: 'body', column: 'body', kind: 'String', optional: true, access: 'synced' },
      { name: 'kind', column: 'kind', kind: 'String', optional: true, access: 'readonly' },
    ],
  };
}

const T = Date.parse('2026-11-01T10:00:00.000Z');
const server = { id: 's1', clientId: 'c1', version: 5, updatedAt: new Date(T).toISOString(), title: 'server', body: 'b', kind: 'k' };

function conflictAnswer(over: Partial<NonNullable<SyncResultItem['conflict']>> = {}): SyncResultItem {
  return {
    clientId: 'c1',
    id: 's1',
    success: false,
    errorCode: 'CONFLICT',
    errorMessage: 'Conflict on Note s1: the server copy is newer',
    conflict: { serverData: server, clientData: null, serverVersion: 5, resolutionSuggested: null, ...over },
  };
}

function input(strategy: ConflictStrategy, result: SyncResultItem | undefined, over: Partial<PushOutcomeInput> = {}): PushOutcomeInput {
  return {
    entity: entity(strategy),
    op: { operation: 'update', attempts: 0, editedAt: T - 1000, queuedAt: T - 2000 },
    item: { id: 's1', clientId: 'c1', version: 3, title: 'mine', updatedAt: new Date(T - 1000).toISOString() },
    result,
    hasRecord: true,
    maxItemAttempts: 10,
    ...over,
  };
}

describe('decidePushOutcome', () => {
  it('no answer for the item: failed, retried later', () => {
    expect(decidePushOutcome(input('timestamp', undefined))).toEqual({
      kind: 'failed',
      message: 'No result for this item in the syncPush answer',
      givenUp: false,
    });
  });

  it('a per-item error fails the operation; the last allowed attempt gives it up', () => {
    const refused: SyncResultItem = { clientId: 'c1', success: false, errorCode: 'VALIDATION_FAILED', errorMessage: 'title is required' };
    expect(decidePushOutcome(input('timestamp', refused))).toEqual({ kind: 'failed', message: 'VALIDATION_FAILED: title is required', givenUp: false });
    const last = input('timestamp', refused, { op: { operation: 'update', attempts: 9, editedAt: T, queuedAt: T } });
    expect(decidePushOutcome(last)).toEqual({ kind: 'failed', message: 'gave up: VALIDATION_FAILED: title is required', givenUp: true });
    const never = input('timestamp', refused, { maxItemAttempts: 0, op: { operation: 'update', attempts: 99, editedAt: T, queuedAt: T } });
    expect(decidePushOutcome(never)).toMatchObject({ givenUp: false });
  });

  it('success: settled; a version other than base + 1 asks for a pull from its updatedAt', () => {
    const ok: SyncResultItem = { clientId: 'c1', id: 's1', success: true, version: 4, updatedAt: new Date(T).toISOString() };
    // The version of its own write: its stamp, for the device to compare with the stream's position.
    expect(decidePushOutcome(input('timestamp', ok))).toEqual({ kind: 'succeeded', settledConflict: null, rewindTo: null, ownStampAt: T });
    expect(decidePushOutcome(input('timestamp', { ...ok, version: 7 }))).toEqual({ kind: 'succeeded', settledConflict: null, rewindTo: T, ownStampAt: null });
    // A create expects version 1.
    const create = input('timestamp', { ...ok, version: 1 }, { op: { operation: 'insert', attempts: 0, editedAt: T, queuedAt: T }, item: { clientId: 'c1', title: 'x' } });
    expect(decidePushOutcome(create)).toMatchObject({ rewindTo: null });
  });

  it('a success the server reached by settling a conflict is recorded as resolved (clientWins: local, merge: merge)', () => {
    const settled: SyncResultItem = { ...conflictAnswer(), success: true, errorCode: null, version: 6, updatedAt: new Date(T).toISOString() };
    expect(decidePushOutcome(input('clientWins', settled))).toMatchObject({ kind: 'succeeded', settledConflict: 'local' });
    expect(decidePushOutcome(input('merge', settled))).toMatchObject({ kind: 'succeeded', settledConflict: 'merge' });
  });

  it('deleting a record the server no longer has is a success', () => {
    const gone: SyncResultItem = { clientId: 'c1', id: 's1', success: false, errorCode: 'NOT_FOUND', errorMessage: 'no Note' };
    const del = input('timestamp', gone, { op: { operation: 'delete', attempts: 0, editedAt: T, queuedAt: T } });
    expect(decidePushOutcome(del)).toEqual({ kind: 'succeeded', settledConflict: null, rewindTo: null, ownStampAt: null });
    expect(decidePushOutcome(input('timestamp', gone))).toMatchObject({ kind: 'failed', message: 'NOT_FOUND: no Note' });
  });

  it('timestamp: server newer -> adopt the server copy; equal times -> the user chooses', () => {
    expect(decidePushOutcome(input('timestamp', conflictAnswer()))).toEqual({ kind: 'conflict', decision: 'server', serverData: server });
    const tie = input('timestamp', conflictAnswer(), { op: { operation: 'update', attempts: 0, editedAt: T, queuedAt: T - 5 } });
    expect(decidePushOutcome(tie)).toEqual({ kind: 'conflict', decision: 'manual', message: 'CONFLICT: Conflict on Note s1: the server copy is newer' });
    // No edit time recorded: the queue time counts.
    const queued = input('timestamp', conflictAnswer(), { op: { operation: 'update', attempts: 0, editedAt: 0, queuedAt: T } });
    expect(decidePushOutcome(queued)).toMatchObject({ decision: 'manual' });
  });

  it('serverWins and clientWins conflicts adopt the server copy; manual waits for the user', () => {
    expect(decidePushOutcome(input('serverWins', conflictAnswer()))).toMatchObject({ kind: 'conflict', decision: 'server' });
    expect(decidePushOutcome(input('clientWins', conflictAnswer()))).toMatchObject({ kind: 'conflict', decision: 'server' });
    expect(decidePushOutcome(input('manual', conflictAnswer()))).toMatchObject({ kind: 'conflict', decision: 'manual' });
  });

  it('merge: the suggestion\'s writable changes are pushed again over the server copy', () => {
    const suggestion = { ...server, title: 'mine', kind: 'not writable' };
    const outcome = decidePushOutcome(input('merge', conflictAnswer({ resolutionSuggested: suggestion })));
    expect(outcome).toEqual({
      kind: 'conflict',
      decision: 'merge',
      payload: { title: 'mine' },
      base: { title: 'server' },
      adopted: { ...server, title: 'mine', version: 5 },
    });
    // A suggestion equal to the server copy: adopt the server copy.
    expect(decidePushOutcome(input('merge', conflictAnswer({ resolutionSuggested: { ...server } })))).toMatchObject({ decision: 'server' });
    // No suggestion: adopt the server copy.
    expect(decidePushOutcome(input('merge', conflictAnswer()))).toMatchObject({ decision: 'server' });
  });

  it('forcePushLocal rebases onto the server version; without it or the record the user decides', () => {
    expect(decidePushOutcome(input('serverWins', conflictAnswer(), { force: 'local' }))).toEqual({ kind: 'conflict', decision: 'local', serverVersion: 5 });
    const noVersion = conflictAnswer({ serverVersion: null, serverData: { ...server, version: undefined } });
    expect(decidePushOutcome(input('serverWins', noVersion, { force: 'local' }))).toMatchObject({ decision: 'manual' });
    expect(decidePushOutcome(input('serverWins', conflictAnswer(), { force: 'local', hasRecord: false }))).toMatchObject({ decision: 'manual' });
  });

  it('without the server copy only the user can settle it', () => {
    expect(decidePushOutcome(input('serverWins', conflictAnswer({ serverData: null })))).toMatchObject({ decision: 'manual' });
  });

  it("the app's onConflict overrides the suggestion and sees it", () => {
    const seen: string[] = [];
    const outcome = decidePushOutcome(
      input('timestamp', conflictAnswer(), {
        policy: (suggested) => {
          seen.push(suggested);
          return 'local';
        },
      }),
    );
    expect(seen).toEqual(['server']);
    expect(outcome).toEqual({ kind: 'conflict', decision: 'local', serverVersion: 5 });
    expect(decidePushOutcome(input('timestamp', conflictAnswer(), { policy: () => undefined }))).toMatchObject({ decision: 'server' });
  });
});

describe('answers about relations (onDelete)', () => {
  const restricted: SyncResultItem = {
    ...conflictAnswer(),
    errorCode: 'DELETE_RESTRICTED',
    errorMessage: 'Note s1 still has 2 live Task record(s) (Task.noteId is onDelete: Restrict, ...)',
  };
  const deleteOp = { operation: 'delete' as const, attempts: 0, editedAt: T, queuedAt: T };

  it('a refused delete brings the server copy back, whatever the strategy or the app policy says', () => {
    for (const strategy of ['clientWins', 'manual', 'timestamp'] as const) {
      expect(decidePushOutcome(input(strategy, restricted, { op: deleteOp, policy: () => 'local' }))).toEqual({
        kind: 'conflict',
        decision: 'server',
        serverData: server,
      });
    }
  });

  it('PARENT_DELETED is given up at the first answer (no retry can change it); other refusals are retried', () => {
    const orphan: SyncResultItem = { clientId: 'c1', id: null, success: false, errorCode: 'PARENT_DELETED', errorMessage: 'noteId: the Note "n1" was deleted' };
    expect(decidePushOutcome(input('timestamp', orphan))).toEqual({
      kind: 'failed',
      givenUp: true,
      message: 'gave up: PARENT_DELETED: noteId: the Note "n1" was deleted',
    });
    const invalid: SyncResultItem = { ...orphan, errorCode: 'VALIDATION_FAILED', errorMessage: 'bad' };
    expect(decidePushOutcome(input('timestamp', invalid))).toMatchObject({ kind: 'failed', givenUp: false });
  });
});
