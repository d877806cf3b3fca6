/**
 * The one intermediate model every emitter reads.
 *
 * Built from the Prisma datamodel (prisma-schema-wasm) plus the `///` sync
 * annotations. Emitters are pure functions of this model and the config.
 */

import type { ConflictStrategy, EntityScope, FieldKind, InsertDefault, JsonValue, OnDeleteAction, SyncAccess } from '../contract/index.js';
import type { SourceLocation } from '../schema/diagnostics.js';

export type { ConflictStrategy, InsertDefault, JsonValue, SyncAccess, SourceLocation };

/** Scalar kinds a synced field may have. Decimal and BigInt are refused by the validator. */
export type ScalarKind = FieldKind;

/** What a field is for, by the data conventions of PRODUCT.md. */
export type FieldRole =
  | 'id'
  | 'clientId'
  | 'version'
  | 'updatedAt'
  | 'deletedAt'
  | 'tenant'
  /** A server-stamped timestamp: `createdAt`, or any `@updatedAt` / `@default(now())` DateTime. */
  | 'createdAt'
  | 'data';

export interface FieldIR {
  /** Prisma field name, e.g. `spaceId`. Also the GraphQL / wire name. */
  name: string;
  /** Column name on the device (WatermelonDB), snake_case of `name`, e.g. `space_id`. */
  column: string;
  /** Column name in the server's database: the field's `@map`, else `name`. */
  dbName: string;
  /** The column's native type when the schema names one (`@db.Date` -> `Date`). */
  nativeType?: string;
  kind: ScalarKind;
  /** Enum type name when kind === 'Enum'. */
  enumName?: string;
  /** `String?` */
  optional: boolean;
  /** Prisma has a default for it (so a create may omit it). */
  hasDefault: boolean;
  /** From the column's native type: `@db.VarChar(n)` / `@db.Char(n)` length, `@db.Uuid` format. Checked before writing. */
  maxLength?: number;
  format?: 'uuid';
  /** Literal default (string, number, boolean) when Prisma's default is a literal. */
  defaultValue?: string | number | boolean;
  role: FieldRole;
  access: SyncAccess;
  /** Set when this scalar is the foreign key of a relation to another @sync entity. */
  relation?: {
    /** Target entity name, e.g. `Space`. */
    entity: string;
    /** The Prisma relation (navigation) field on this model, e.g. `space`. */
    navigation: string;
    /**
     * `Int` when the target's id is an `Int @default(autoincrement())`. The key still
     * travels as an opaque string (the server id's decimal text, or the parent's clientId
     * while the device does not know its server id), so the field's `kind` is `String`;
     * the server turns it into the Int it stores.
     */
    idKind?: 'Int';
    /** What deleting the target does to this record (the relation's `onDelete`, Prisma's default when unset). */
    onDelete: OnDeleteAction;
  };
  /**
   * Set when this scalar is the foreign key of a relation to a model WITHOUT @sync
   * (a user, a team): it travels as a plain value, devices have no navigation for it,
   * and the server checks that the record exists (in the caller's tenant when the
   * target has the tenant field).
   */
  reference?: {
    /** Target model name, e.g. `User`. */
    model: string;
    /** Its Prisma client delegate, e.g. `user`. */
    delegate: string;
    /** The referenced field (`id`, or a unique such as `slug`). */
    key: string;
    /** The target's tenant field when it has the entity's one, else null. */
    tenantField: string | null;
  };
  location: SourceLocation;
}

export interface EnumIR {
  name: string;
  values: string[];
  /** Some value has an `@map`: the database stores another name than the wire's. */
  mapped?: true;
}

export interface EntityIR {
  /** Prisma model name, PascalCase, e.g. `ChecklistItem`. */
  name: string;
  /**
   * Class and GraphQL type name in generated code: the model name, or `<Name>Item`
   * when the name is one generated code already uses (`Field`, `Query`, `Model`, ...).
   */
  typeName: string;
  /** camelCase, e.g. `checklistItem`; also the Prisma client delegate name. */
  camel: string;
  /** kebab-case, e.g. `checklist-item`; used for file names. */
  kebab: string;
  /** Device table name: snake_case plural, e.g. `checklist_items`. */
  table: string;
  /** Table name in the server's database: the model's `@@map`, else its name. */
  dbName: string;
  /** The model's `@@schema` (PostgreSQL multiSchema), when it has one. */
  dbSchema?: string;
  /** GraphQL plural for list queries, camelCase, e.g. `checklistItems`. */
  plural: string;
  /** The tenant scope field, or null for `tenant: "none"` (a global entity); `id` for a model that is its own tenant. */
  tenantField: string | null;
  /** The String id has no Prisma default: the server mints a UUID for each create. */
  serverMintsId: boolean;
  /**
   * `Int` for an `Int @id @default(autoincrement())` (the database numbers creates);
   * default String. On the wire and on devices every server id is an opaque string.
   */
  idKind?: 'String' | 'Int';
  /**
   * `updatedAt DateTime?`: rows written before the column existed may hold null. They
   * sort before every stamped row in the pull order (see runtime/server/cursor.ts).
   */
  updatedAtOptional?: boolean;
  /** Type of the tenant field: the token's tenant id is converted to it (`Int` tenants). */
  tenantKind: 'String' | 'Int';
  conflict: ConflictStrategy;
  /** Every scalar field of the model, in schema order (convention fields included). */
  fields: FieldIR[];
  /**
   * What a create that leaves a field out stores, for every field whose value Prisma's
   * client computes (not the database): a v4 UUID, the time of the write, or a literal.
   * Fields the database fills (`autoincrement()`, `dbgenerated()`) are not listed. Null when
   * some field's default is one the runtime does not compute the way Prisma does
   * (`cuid()`, `nanoid()`, `ulid()`, `uuid(7)`, a list, or a default on a field the model
   * leaves out): the entity's creates are then written through Prisma only.
   */
  insertDefaults: Record<string, InsertDefault> | null;
  /**
   * Fields carried in sync payloads besides the convention fields
   * (`id`, `clientId`, `version`, `updatedAt`, `deletedAt`):
   * role `data` with access synced | readonly | media, in schema order.
   */
  dataFields: FieldIR[];
  /** The model's own @@unique / @unique keys besides the convention ones (field names), in schema order. */
  uniques: string[][];
  /** Names of @sync entities this one references (its parents), sorted. */
  parents: string[];
  /** The deletion marker: `deletedAt DateTime?` (an `isDeleted Boolean` is refused by the validator until it is supported). */
  tombstone: 'deletedAt';
  location: SourceLocation;
  /** The model's own `///` doc text without annotation lines. */
  description?: string;
  /** Partial sync: `@sync(scope: "task.project")` resolved to the hops from this entity to its scope root. */
  scope?: EntityScope;
}

export interface ProjectIR {
  /** Path of the schema the model came from, as given. */
  schemaPath: string;
  /** Database provider of the datasource (sqlite, postgresql, ...). */
  provider: string;
  /** @sync entities, parents before children, ties broken by name. */
  entities: EntityIR[];
  /** Enums used by @sync entities, sorted by name. */
  enums: EnumIR[];
  /** Things that generate but deserve a look (printed as warnings), e.g. a @@unique that soft-deleted records keep holding. */
  warnings?: Array<{ location: SourceLocation; rule: string; message: string; fix: string }>;
}
