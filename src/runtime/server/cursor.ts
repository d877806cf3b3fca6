/**
 * Opaque keyset cursors.
 *
 * A pull position is a point in the (updatedAt, id) order: everything at or
 * before it has been delivered. `id: null` means "every row of that updatedAt"
 * (a position reached at the end of a pull or given by `since`).
 */
import { SyncErrorCode, TrackhubError } from './errors.js';

export interface PullPosition {
  /** updatedAt, epoch milliseconds. */
  updatedAt: number;
  /** Last delivered id at that updatedAt, or null for all of them. */
  id: string | null;
}

const PULL_PREFIX = 'p1.';
const LIST_PREFIX = 'l1.';

function encode(prefix: string, value: unknown): string {
  return prefix + Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode(prefix: string, cursor: string): unknown {
  if (!cursor.startsWith(prefix)) throw new Error('prefix');
  return JSON.parse(Buffer.from(cursor.slice(prefix.length), 'base64url').toString('utf8')) as unknown;
}

function invalid(): TrackhubError {
  return new TrackhubError(SyncErrorCode.INVALID_CURSOR, 'Invalid cursor: pass back a cursor this server returned');
}

export function encodePullCursor(position: PullPosition): string {
  return encode(PULL_PREFIX, [position.updatedAt, position.id]);
}

export function decodePullCursor(cursor: string): PullPosition {
  try {
    const value = decode(PULL_PREFIX, cursor);
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      (value[1] === null || typeof value[1] === 'string')
    ) {
      return { updatedAt: value[0] as number, id: value[1] as string | null };
    }
  } catch {
    // fall through
  }
  throw invalid();
}

/** Total order of positions; `id: null` sorts after every id of the same updatedAt. */
export function comparePositions(a: PullPosition, b: PullPosition): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  if (a.id === b.id) return 0;
  if (a.id === null) return 1;
  if (b.id === null) return -1;
  return a.id < b.id ? -1 : 1;
}

/** Online list cursor: the last id of the previous page. */
export function encodeListCursor(lastId: string): string {
  return encode(LIST_PREFIX, lastId);
}

export function decodeListCursor(cursor: string): string {
  try {
    const value = decode(LIST_PREFIX, cursor);
    if (typeof value === 'string') return value;
  } catch {
    // fall through
  }
  throw invalid();
}
