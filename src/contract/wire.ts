/** Values as they travel between device and server. No imports. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A record as it travels on the wire. */
export type WireRecord = Record<string, unknown>;

/**
 * What a create that leaves a field out stores, when Prisma's client (not the database)
 * computes it: a v4 UUID (`@default(uuid())`), the time of the write (`@default(now())`,
 * `@updatedAt`), or a literal (`@default(0)`; a `Json` field's default parsed). The
 * generator lists these per entity; the server's bulk INSERTs fill them the same way.
 */
export type InsertDefault = 'uuid' | 'now' | { value: JsonValue };
