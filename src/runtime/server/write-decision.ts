/**
 * The server's side of the conflict table (PRODUCT.md, "Conflict"): what to do
 * with a pushed update or delete of an existing record, as a pure decision.
 * SyncService.applyItem reads the record, asks here, and writes.
 *
 *   server copy is a tombstone   -> a delete again: no-op; anything else: conflict
 *   same base version            -> write
 *   stale base version, the server already holds these values -> no-op
 *   stale, by the entity's strategy:
 *     clientWins  -> write
 *     timestamp   -> write when the device edited later; else conflict (equal times: the user chooses)
 *     merge       -> write the fields only the device changed; conflict (with a suggestion) on a clash;
 *                    a delete is a conflict
 *     serverWins, manual -> conflict
 */
import type { WireRecord } from '../../contract/wire.js';
import { isDeletedRow, serializeRecord, wireEqual, type ParsedItem } from './codec.js';
import { stampOf } from './cursor.js';
import type { EntityDescriptor } from './descriptor.js';
import type { Row } from './prisma.js';

export type WriteDecision =
  /** Nothing to write: answer success with the server's copy. */
  | { kind: 'noop' }
  /** Write these database values (all of the item's writable data, or the merged part). */
  | { kind: 'write'; data: Row }
  /** Answer CONFLICT with why and, for a merge, the suggested resolution. */
  | { kind: 'conflict'; why: string; suggested: WireRecord | null };

/** The decision for `item` (an update or delete: it has a base version) against the server's `existing` row. */
export function decideWrite(d: EntityDescriptor, item: ParsedItem, existing: Row): WriteDecision {
  if (isDeletedRow(d, existing)) {
    // Deleting twice is a no-op (e.g. a replayed delete); editing a tombstone is a conflict.
    if (item.deleted) return { kind: 'noop' };
    return { kind: 'conflict', why: 'the record was deleted on the server', suggested: null };
  }

  if (item.version === existing.version) return { kind: 'write', data: { ...item.data } };

  // Stale base version.
  const serverWire = serializeRecord(d, existing);
  if (!item.deleted && Object.entries(item.wire).every(([k, v]) => k in item.readonlyData || wireEqual(v, serverWire[k]))) {
    // The server already holds exactly these values (e.g. a replayed update): nothing to do.
    return { kind: 'noop' };
  }
  switch (d.conflict) {
    case 'clientWins':
      return { kind: 'write', data: { ...item.data } };
    case 'timestamp': {
      const device = item.deviceUpdatedAt?.getTime();
      const server = stampOf(existing); // a legacy row with no updatedAt is older than any edit
      if (device !== undefined && device > server) return { kind: 'write', data: { ...item.data } };
      const why =
        device === undefined
          ? 'stale version and no device updatedAt to compare'
          : device === server
            ? 'stale version and equal edit times: choose a version'
            : 'the server copy is newer';
      return { kind: 'conflict', why, suggested: null };
    }
    case 'merge': {
      if (item.deleted) return { kind: 'conflict', why: 'the record changed on the server since the device deleted it', suggested: null };
      const apply: Row = {};
      const clashes: string[] = [];
      for (const [name, value] of Object.entries(item.data)) {
        const mine = item.wire[name];
        const theirs = serverWire[name];
        if (wireEqual(mine, theirs)) continue;
        if (item.base) {
          if (!(name in item.base)) continue; // not changed on the device: keep the server's value
          if (wireEqual(item.base[name], theirs)) apply[name] = value; // changed on the device only
          else clashes.push(name); // changed on both sides, differently
        } else {
          clashes.push(name); // no base: cannot tell who changed it
        }
      }
      if (clashes.length) {
        const suggested: WireRecord = { ...serverWire };
        for (const name of Object.keys(apply)) suggested[name] = item.wire[name];
        return { kind: 'conflict', why: `changed on both sides: ${clashes.sort().join(', ')}`, suggested };
      }
      if (Object.keys(apply).length === 0) return { kind: 'noop' };
      return { kind: 'write', data: apply };
    }
    case 'serverWins':
      return { kind: 'conflict', why: 'the server copy wins (serverWins)', suggested: null };
    case 'manual':
      return { kind: 'conflict', why: 'stale version: resolve manually', suggested: null };
  }
}
