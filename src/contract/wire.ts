/** Values as they travel between device and server. No imports. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A record as it travels on the wire. */
export type WireRecord = Record<string, unknown>;
