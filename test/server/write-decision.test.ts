/**
 * The server's conflict decision (PRODUCT.md, "Conflict"), case by case: for a
 * pushed update / delete against the stored row, write, no-op or conflict.
 */
import { describe, expect, it } from 'vitest';

import { parseItem } from '../../src/runtime/server/codec.js';
import type { ConflictStrategy, EntityDescriptor } from '../../src/runtime/server/descriptor.js';
import { decideWrite } from '../../src/runtime/server/write-decision.js';

function entity(conflict: ConflictStrategy): EntityDescriptor {
  return {
    name: 'Note',
    delegate: 'note',
    table: 'notes',
    tenantField: null,
    conflict,
    tombstone: 'deletedAt',
    tombstoneField: 'deletedAt',
    serverFields: [],
    fields: [
      { name: 'title', kind: 'String', optional: false, hasDefault: false, access: 'synced' },
      { name: 'body', kind: 'String', optional: true, hasDefault: false, access: 'synced' },
      { name: 'kind', kind: 'String', optional: true, hasDefault: false, access: 'readonly' },
    ],
  };
}

const T = Date.parse('2026-11-01T10:00:00.000Z');
/** The stored row: version 3, last written at T. */
function row(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 's1', clientId: 'c1', version: 3, updatedAt: new Date(T), deletedAt: null, title: 'server', body: 'b', kind: 'k', ...over };
}
/** A pushed item (wire form) parsed as the server parses it. */
function push(d: EntityDescriptor, raw: Record<string, unknown>) {
  return parseItem(d, { id: 's1', clientId: 'c1', ...raw });
}
const at = (offsetMs: number): string => new Date(T + offsetMs).toISOString();

describe('decideWrite', () => {
  it('writes an update on the current version, whatever the strategy', () => {
    for (const strategy of ['timestamp', 'serverWins', 'clientWins', 'merge', 'manual'] as const) {
      const d = entity(strategy);
      expect(decideWrite(d, push(d, { version: 3, title: 'mine', updatedAt: at(-5000) }), row())).toEqual({ kind: 'write', data: { title: 'mine' } });
    }
  });

  it('a delete of a tombstone is a no-op; an update of it is a conflict', () => {
    const d = entity('clientWins');
    const gone = row({ deletedAt: new Date(T) });
    expect(decideWrite(d, push(d, { version: 1, deletedAt: at(0), updatedAt: at(0) }), gone)).toEqual({ kind: 'noop' });
    expect(decideWrite(d, push(d, { version: 3, title: 'x', updatedAt: at(1000) }), gone)).toEqual({
      kind: 'conflict',
      why: 'the record was deleted on the server',
      suggested: null,
    });
  });

  it('a stale update carrying exactly the server values (a replay) is a no-op', () => {
    const d = entity('serverWins');
    expect(decideWrite(d, push(d, { version: 2, title: 'server', body: 'b', updatedAt: at(-1) }), row())).toEqual({ kind: 'noop' });
  });

  describe('timestamp (stale base version)', () => {
    const d = entity('timestamp');
    it('device edited later: local wins, written', () => {
      expect(decideWrite(d, push(d, { version: 2, title: 'mine', updatedAt: at(1) }), row())).toEqual({ kind: 'write', data: { title: 'mine' } });
    });
    it('server newer: conflict (the device adopts the server copy)', () => {
      expect(decideWrite(d, push(d, { version: 2, title: 'mine', updatedAt: at(-1) }), row())).toEqual({
        kind: 'conflict',
        why: 'the server copy is newer',
        suggested: null,
      });
    });
    it('equal edit times: conflict for the user to choose', () => {
      expect(decideWrite(d, push(d, { version: 2, title: 'mine', updatedAt: at(0) }), row())).toEqual({
        kind: 'conflict',
        why: 'stale version and equal edit times: choose a version',
        suggested: null,
      });
    });
    it('no device time: conflict', () => {
      expect(decideWrite(d, push(d, { version: 2, title: 'mine' }), row())).toMatchObject({ kind: 'conflict', why: 'stale version and no device updatedAt to compare' });
    });
    it('a stale delete follows the same rule', () => {
      expect(decideWrite(d, push(d, { version: 2, deletedAt: at(5), updatedAt: at(5) }), row()).kind).toBe('write');
      expect(decideWrite(d, push(d, { version: 2, deletedAt: at(-5), updatedAt: at(-5) }), row()).kind).toBe('conflict');
    });
  });

  it('clientWins writes a stale update; serverWins and manual answer conflict', () => {
    const stale = { version: 1, title: 'mine', updatedAt: at(-60_000) };
    const c = entity('clientWins');
    expect(decideWrite(c, push(c, stale), row())).toEqual({ kind: 'write', data: { title: 'mine' } });
    const s = entity('serverWins');
    expect(decideWrite(s, push(s, stale), row())).toEqual({ kind: 'conflict', why: 'the server copy wins (serverWins)', suggested: null });
    const m = entity('manual');
    expect(decideWrite(m, push(m, stale), row())).toEqual({ kind: 'conflict', why: 'stale version: resolve manually', suggested: null });
  });

  describe('merge (stale base version)', () => {
    const d = entity('merge');
    it('writes the fields only the device changed, keeps fields only the server changed', () => {
      // Device changed title (base 'server'); the server changed body since (device base 'old').
      const item = push(d, { version: 2, title: 'mine', body: 'old', updatedAt: at(0), _base: { title: 'server' } });
      expect(decideWrite(d, item, row())).toEqual({ kind: 'write', data: { title: 'mine' } });
    });
    it('a field changed on both sides, differently, is a conflict with a suggestion', () => {
      const item = push(d, { version: 2, title: 'mine', body: 'mine too', updatedAt: at(0), _base: { title: 'server', body: 'old' } });
      const decision = decideWrite(d, item, row());
      expect(decision).toMatchObject({ kind: 'conflict', why: 'changed on both sides: body' });
      expect(decision.kind === 'conflict' && decision.suggested).toMatchObject({ id: 's1', version: 3, title: 'mine', body: 'b' });
    });
    it('without a base every differing field clashes', () => {
      expect(decideWrite(d, push(d, { version: 2, title: 'mine', updatedAt: at(0) }), row())).toMatchObject({
        kind: 'conflict',
        why: 'changed on both sides: title',
      });
    });
    it('nothing left to apply is a no-op; a stale delete is a conflict', () => {
      const item = push(d, { version: 2, title: 'server', body: 'old', updatedAt: at(0), _base: { title: 'server' } });
      expect(decideWrite(d, item, row())).toEqual({ kind: 'noop' });
      expect(decideWrite(d, push(d, { version: 2, deletedAt: at(0), updatedAt: at(0) }), row())).toEqual({
        kind: 'conflict',
        why: 'the record changed on the server since the device deleted it',
        suggested: null,
      });
    });
  });
});
