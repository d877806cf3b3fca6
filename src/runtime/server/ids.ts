/**
 * Server ids on the wire.
 *
 * A synced model's id is a String (`uuid()`, `cuid()`, or minted by the server) or an
 * `Int @id @default(autoincrement())`. Either way it travels as an opaque string:
 * devices key records by their own client id and only store the server's id as text
 * (the GraphQL `ID` type, pulled items, push results). The server turns the text back
 * into the id it stores here, and nowhere else.
 */

/** An id as the database stores it. */
export type ServerId = string | number;

export type IdKind = 'String' | 'Int';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const DECIMAL = /^-?(0|[1-9]\d*)$/;

/**
 * Wire id -> stored id, or undefined when no record can have it (so it reads as not
 * found): a String id is any non-empty text; an Int id is the decimal text of a 32-bit
 * integer (an integer number is accepted as well).
 */
export function parseServerId(kind: IdKind | undefined, value: unknown): ServerId | undefined {
  if (kind === 'Int') {
    if (typeof value === 'number') return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? value : undefined;
    if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined;
    const n = Number(value);
    return n >= INT32_MIN && n <= INT32_MAX ? n : undefined;
  }
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Stored id -> wire id (null stays null). */
export function wireId(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? String(value) : (value as string);
}
