import type { ConflictStrategy, EntityScope, FieldKind, InsertDefault, OnDeleteAction, SyncAccess } from '../../contract/index.js';
import type { EntityHooks } from './hooks.js';

/**
 * Per-entity descriptors: everything the generic runtime needs to know about
 * one `@sync` model. Generated into `server/generated/<entity>/<entity>.descriptor.ts`.
 */

export type { ConflictStrategy, FieldKind } from '../../contract/index.js';

/** `synced` both ways, `readonly` server -> device only (settable on create), `ignore` never leaves the server, `media` synced (filled by the upload queue). */
export type FieldAccess = SyncAccess;

export interface RelationDescriptor {
  /** Target entity name, e.g. `Space`. */
  entity: string;
  /** Target's Prisma delegate, e.g. `space`. */
  delegate: string;
  /** Target's tenant field, or null for a global entity. */
  tenantField: string | null;
  /** `Int` when the target's tenant field is an Int (default String). */
  tenantKind?: 'String' | 'Int';
  /** `Int` when the target's id is an Int: the key arrives as an opaque string and is stored as the Int. */
  idKind?: 'String' | 'Int';
  /**
   * What deleting the target does to this record (the relation's Prisma `onDelete`, Prisma's
   * default when the schema names none). Carried out by the server in the delete's transaction
   * (see cascade.ts). Absent (descriptors written by hand before it existed): `Restrict` when the
   * field is required, `SetNull` when optional, like Prisma.
   */
  onDelete?: OnDeleteAction;
}

/**
 * The foreign key of a relation to a model without @sync (a user, a team): a plain
 * value on the wire, checked to name an existing record (in the caller's tenant
 * when `tenantField` is set) before it is written.
 */
export interface ReferenceDescriptor {
  /** Target model name, e.g. `User`. */
  model: string;
  /** Target's Prisma delegate, e.g. `user`. */
  delegate: string;
  /** The referenced field (`id` or another unique, e.g. `slug`). */
  key: string;
  /** The target's tenant field, when it has the entity's one. */
  tenantField: string | null;
  tenantKind?: 'String' | 'Int';
}

export interface FieldDescriptor {
  /** Prisma field name = wire name. */
  name: string;
  kind: FieldKind;
  /** Allowed values when kind is `Enum`. */
  enumValues?: readonly string[];
  /** Nullable in Prisma. */
  optional: boolean;
  /** Prisma has a default, so a create may omit it. */
  hasDefault: boolean;
  access: FieldAccess;
  /** Set when the field is the foreign key of a relation to another @sync entity. */
  relation?: RelationDescriptor;
  /** `@db.VarChar(n)` / `@db.Char(n)`: longer values are refused (VALUE_TOO_LONG) before writing. */
  maxLength?: number;
  /** `@db.Uuid`: other values are refused (INVALID_VALUE) before writing. */
  format?: 'uuid';
  /** Set when the field is the foreign key of a relation to a model without @sync. */
  reference?: ReferenceDescriptor;
}

export interface EntityDescriptor {
  /** Model name; the `entity` argument of syncPull / syncPush. */
  name: string;
  /** Prisma client delegate, camelCase of the model name. */
  delegate: string;
  /** Device table name; accepted as an alias of `name` by syncPull / syncPush. */
  table: string;
  /** Tenant scope field, or null for a global entity; `id` for a model that is its own tenant. */
  tenantField: string | null;
  /** `Int` when the tenant field is an Int: the token's tenant id is converted (default String). */
  tenantKind?: 'String' | 'Int';
  conflict: ConflictStrategy;
  /** `Int` for an `Int @id @default(autoincrement())` (default String). Ids travel as strings either way (see ids.ts). */
  idKind?: 'String' | 'Int';
  /** `updatedAt DateTime?`: legacy rows with a null updatedAt sort before every stamped row (see cursor.ts). */
  updatedAtNullable?: boolean;
  /** The id has no database default (`id String @id`): the server mints a UUID on create. */
  mintId?: boolean;
  /** The deletion marker: `deletedAt DateTime?` (the only one supported). */
  tombstone: 'deletedAt';
  /** Name of the tombstone field (`deletedAt`). */
  tombstoneField: string;
  /** Server-managed fields besides the conventions (e.g. `createdAt`): ignored when a client sends them. */
  serverFields: readonly string[];
  /** Every data field (convention fields excluded), `@sync.ignore` ones included, in schema order. */
  fields: readonly FieldDescriptor[];
  /** The model's own unique keys (besides (tenant, clientId)): a hit is UNIQUE_VIOLATION naming them. */
  uniques?: readonly (readonly string[])[];
  /** Partial sync: `@sync(scope: ...)`, the hops from this entity to its scope root (see scopes.ts). */
  scope?: EntityScope;
  /** Where the entity is stored, for the batched push's bulk updates (absent: one `updateMany` per update). */
  storage?: StorageDescriptor;
  /** The entity's user-owned hooks (validate, read, afterPull). */
  hooks?: EntityHooks;
}

/**
 * The entity's table and columns in the server's database (`@@map`, `@map`, `@@schema`):
 * what the batched push needs to write many updates in one statement (bulk-update.ts).
 * The generator gives it only when every listed column can be written that way exactly
 * as Prisma would write it.
 */
export interface StorageDescriptor {
  /** Table name in the database. */
  table: string;
  /** PostgreSQL schema of a multiSchema model (`@@schema`); otherwise the client's schema. */
  schema?: string;
  /** Prisma field -> column: id, version, updatedAt, the tombstone, the tenant field and every field a push may write. */
  columns: Readonly<Record<string, string>>;
  /**
   * For the batched push's bulk INSERTs (bulk-insert.ts): the other columns a create may
   * write (Prisma field -> column), and what a create that leaves a field out stores where
   * Prisma's client computes it. Absent: creates go through `createManyAndReturn`.
   */
  insert?: {
    columns: Readonly<Record<string, string>>;
    defaults: Readonly<Record<string, InsertDefault>>;
  };
}

/** Identity helper that keeps literal types checked against the descriptor shape. */
export function defineEntity(descriptor: EntityDescriptor): EntityDescriptor {
  return descriptor;
}
