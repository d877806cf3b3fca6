/** Field facts of the sync contract (PRODUCT.md, "Data Conventions" and "Field access"). No imports. */

/** Scalar kinds a synced field may have. Decimal and BigInt are refused by the validator. */
export const FIELD_KINDS = ['String', 'Int', 'Float', 'Boolean', 'DateTime', 'Json', 'Enum'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

/**
 * How a data field travels: `synced` both ways, `readonly` server -> device only
 * (settable on create), `ignore` never leaves the server, `media` synced and
 * filled by the upload queue.
 */
export const SYNC_ACCESS = ['synced', 'readonly', 'ignore', 'media'] as const;
export type SyncAccess = (typeof SYNC_ACCESS)[number];

/** The access modes a device sees (an `ignore` field never reaches it). */
export type DeviceAccess = Exclude<SyncAccess, 'ignore'>;

/**
 * What deleting a parent does to the synced records that reference it: the relation's
 * Prisma `onDelete`, with Prisma's defaults when the schema names none (`Restrict` for a
 * required relation, `SetNull` for an optional one; `NoAction` reads as `Restrict`).
 * Deletes are tombstones, so the server carries the action out itself, in the same
 * transaction as the delete: `Cascade` tombstones the children, `SetNull` clears their
 * reference, `Restrict` refuses the delete while live children remain.
 */
export const ON_DELETE_ACTIONS = ['Cascade', 'SetNull', 'Restrict'] as const;
export type OnDeleteAction = (typeof ON_DELETE_ACTIONS)[number];

/** The action when the schema names none: Prisma's default (`Restrict` for a required relation, `SetNull` for an optional one). */
export function defaultOnDelete(optional: boolean): OnDeleteAction {
  return optional ? 'SetNull' : 'Restrict';
}
