/**
 * Opaque keyset cursors.
 *
 * A pull position is a point in the (updatedAt, id) order: everything at or
 * before it has been delivered. `id: null` means "every row of that updatedAt"
 * (a position reached at the end of a pull or given by `since`).
 *
 * Ids are compared as the database orders them: an Int id numerically (9 before 10).
 * Rows of an `updatedAt DateTime?` whose updatedAt is null (written before the column
 * existed) sit at NULL_UPDATED_AT, before every stamped row.
 */
import { STREAM_CURSOR_PREFIX } from '../../contract/scopes.js';
import { SyncErrorCode, TrackhubError } from './errors.js';
import type { ServerId } from './ids.js';

export interface PullPosition {
  /** updatedAt, epoch milliseconds (NULL_UPDATED_AT for rows whose updatedAt is null). */
  updatedAt: number;
  /** Last delivered id at that updatedAt, or null for all of them. */
  id: ServerId | null;
}

/**
 * Where rows with a null updatedAt sort: 0001-01-01T00:00:00.000Z, before every stamp
 * the server writes. A `since` at it means "the null rows are delivered"; a `since`
 * before it, "start from the beginning".
 */
export const NULL_UPDATED_AT = Date.parse('0001-01-01T00:00:00.000Z');

const PULL_PREFIX = 'p1.';
/** A pull position with what it was issued under: the read rules' fingerprint and the scope root (partial sync). */
const PULL_PREFIX_V2 = STREAM_CURSOR_PREFIX;
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

/** What a pull cursor was issued under besides its position (null: no read rules / the tenant-wide stream). */
export interface PullStream {
  fingerprint: string | null;
  scope: string | null;
  /**
   * When the stream's table was last read for this cursor (server epoch ms), or null. A
   * pull with nothing new answers from the sync clock alone until this is a while ago.
   */
  checkedAt?: number | null;
}

/**
 * A position alone keeps the first cursor format (`p1.`), which servers without partial
 * sync read too when it carries no `checkedAt`. `checkedAt` goes last, in either format.
 */
export function encodePullCursor(position: PullPosition, stream: PullStream = { fingerprint: null, scope: null }): string {
  const checked = stream.checkedAt === undefined || stream.checkedAt === null ? [] : [stream.checkedAt];
  if (stream.fingerprint === null && stream.scope === null) return encode(PULL_PREFIX, [position.updatedAt, position.id, ...checked]);
  return encode(PULL_PREFIX_V2, [position.updatedAt, position.id, stream.fingerprint, stream.scope, ...checked]);
}

export function decodePullCursor(cursor: string): PullPosition & Required<PullStream> {
  try {
    const v2 = cursor.startsWith(PULL_PREFIX_V2);
    const value = decode(v2 ? PULL_PREFIX_V2 : PULL_PREFIX, cursor);
    const nullableString = (x: unknown): boolean => x === null || typeof x === 'string';
    const fields = v2 ? 4 : 2;
    if (
      Array.isArray(value) &&
      (value.length === fields || (value.length === fields + 1 && Number.isSafeInteger(value[fields]))) &&
      Number.isSafeInteger(value[0]) &&
      (value[1] === null || typeof value[1] === 'string' || Number.isSafeInteger(value[1])) &&
      (!v2 || (nullableString(value[2]) && nullableString(value[3])))
    ) {
      return {
        updatedAt: value[0] as number,
        id: value[1] as ServerId | null,
        fingerprint: v2 ? (value[2] as string | null) : null,
        scope: v2 ? (value[3] as string | null) : null,
        checkedAt: value.length > fields ? (value[fields] as number) : null,
      };
    }
  } catch {
    // fall through
  }
  throw invalid();
}

/** A row's updatedAt in the pull order (epoch ms; NULL_UPDATED_AT for null). */
export function stampOf(row: { updatedAt?: unknown }): number {
  return row.updatedAt instanceof Date ? row.updatedAt.getTime() : NULL_UPDATED_AT;
}

/** Prisma `orderBy` of the pull: (updatedAt, id), null updatedAt first on every provider (PostgreSQL puts nulls last). */
export function pullOrder(nullable: boolean): Array<Record<string, unknown>> {
  return [{ updatedAt: nullable ? { sort: 'asc', nulls: 'first' } : 'asc' }, { id: 'asc' }];
}

/**
 * Prisma `where` of the rows strictly after a position in the pull order. `updatedAt > at`
 * never matches a null updatedAt, so null rows are only reached from inside their own group.
 */
export function afterPosition(position: PullPosition, nullable: boolean): Record<string, unknown> {
  const at = new Date(position.updatedAt);
  if (position.id === null) return { updatedAt: { gt: at } };
  if (nullable && position.updatedAt === NULL_UPDATED_AT) return { OR: [{ updatedAt: { gt: at } }, { updatedAt: null, id: { gt: position.id } }] };
  // `updatedAt >= at` first: the (tenant, updatedAt, id) index then starts the scan at the
  // position. With the OR alone, SQLite and PostgreSQL scan the tenant's rows from the
  // first one on every page (a 100k-row pull read 50 times as many index entries).
  return { updatedAt: { gte: at }, OR: [{ updatedAt: { gt: at } }, { id: { gt: position.id } }] };
}

/** Prisma `where` of the rows stamped before `stamp` (epoch ms), null ones included. */
export function beforeStamp(stamp: number, nullable: boolean): Record<string, unknown> {
  const lt = { updatedAt: { lt: new Date(stamp) } };
  return nullable ? { OR: [{ updatedAt: null }, lt] } : lt;
}

/** Total order of positions; `id: null` sorts after every id of the same updatedAt. */
export function comparePositions(a: PullPosition, b: PullPosition): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  if (a.id === b.id) return 0;
  if (a.id === null) return 1;
  if (b.id === null) return -1;
  return a.id < b.id ? -1 : 1;
}

/** Does a cursor's id have the type of the entity's ids (a cursor of another entity would make the query fail)? */
export function idFits(kind: 'String' | 'Int' | undefined, id: ServerId | null): boolean {
  return id === null || (kind === 'Int' ? typeof id === 'number' : typeof id === 'string');
}

/** Online list cursor: the last id of the previous page. */
export function encodeListCursor(lastId: ServerId): string {
  return encode(LIST_PREFIX, lastId);
}

export function decodeListCursor(cursor: string): ServerId {
  try {
    const value = decode(LIST_PREFIX, cursor);
    if (typeof value === 'string' || Number.isSafeInteger(value)) return value as ServerId;
  } catch {
    // fall through
  }
  throw invalid();
}
