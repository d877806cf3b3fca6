/**
 * Runtime description of a synced entity: what the generated `descriptors.ts`
 * declares for every `@sync` model and what the queue, the sync engine and
 * the services read. Plain data, no classes.
 */

import type { ConflictStrategy, DeviceAccess, EntityScope, FieldKind, OnDeleteAction } from '../../contract/index.js';

export type { ConflictStrategy, FieldKind };
export { SYNC_COLUMN_SCHEMAS, SYNC_COLUMNS, WATERMELON_COLUMNS } from '../../contract/columns.js';

/** `synced` both ways; `readonly` server -> device (settable on create only); `media` synced and filled by the upload queue. */
export type FieldAccess = DeviceAccess;

export interface FieldDescriptor {
  /** Wire / GraphQL name, e.g. `spaceId`. */
  name: string;
  /** Device column, e.g. `space_id`. */
  column: string;
  kind: FieldKind;
  optional: boolean;
  access: FieldAccess;
  /** The server has a default, so a create may omit the field. */
  hasDefault?: boolean;
  /** Literal default the device applies when a create omits the field. */
  defaultValue?: string | number | boolean;
  /** Allowed values when kind is `Enum`. */
  enumValues?: readonly string[];
  /** Name of the referenced entity when this is a relation foreign key. */
  relation?: string;
  /** What deleting the referenced record does to this one (the relation's onDelete; see local-delete.ts). */
  onDelete?: OnDeleteAction;
}

export interface EntityDescriptor {
  /** Model name, also the `entity` argument of syncPull / syncPush, e.g. `Space`. */
  name: string;
  /** Device table, e.g. `spaces`. */
  table: string;
  conflict: ConflictStrategy;
  /** How the server marks a deletion on pulled items. */
  tombstone: 'deletedAt';
  /** Data fields in schema order (convention fields excluded). */
  fields: FieldDescriptor[];
  /** Entities this one references. */
  parents: string[];
  /** Partial sync: the hops from this entity to its scope root, when it is synced by scope. */
  scope?: EntityScope;
  /** Online CRUD names; default `create<Name>` etc. */
  online?: {
    create?: string;
    createInput?: string;
  };
}

/** Metadata every plain record object carries. */
export interface SyncedRecord {
  /** Local id: the clientId (UUID v7) for records made on a device, else the server id. */
  id: string;
  /** Server id, once known. */
  serverId: string | null;
  clientId: string | null;
  /** Version the device last saw from the server (0 before the first push). */
  version: number;
  /** Server's `updatedAt` when the device last saw the record. */
  serverUpdatedAt: Date | null;
}
