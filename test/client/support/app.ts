/**
 * A small hand-written app over the client runtime, shaped like what the
 * generator emits (schema, decorated models, descriptors, typed services),
 * so the runtime is tested without going through the emitter.
 */
import { Model, appSchema, tableSchema } from '@nozbe/watermelondb';
import type { Relation } from '@nozbe/watermelondb';

import {
  OfflineFirstService,
  TrackhubClient,
  date,
  field,
  json,
  relation,
  runtimeTables,
  schemaMigrations,
} from '../../../src/runtime/client/node.js';
import type { EntityDescriptor, SyncedRecord, TrackhubConnectionOptions } from '../../../src/runtime/client/node.js';

const syncColumns = [
  { name: 'server_id', type: 'string', isOptional: true, isIndexed: true },
  { name: 'client_id', type: 'string', isOptional: true, isIndexed: true },
  { name: 'version', type: 'number' },
  { name: 'server_updated_at', type: 'number', isOptional: true },
  { name: 'deleted_at', type: 'number', isOptional: true },
] as const;

export const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'spaces',
      columns: [
        { name: 'name', type: 'string' },
        { name: 'kind', type: 'string' },
        { name: 'position', type: 'number' },
        { name: 'owner_id', type: 'string' },
        { name: 'cover_url', type: 'string', isOptional: true },
        ...syncColumns,
      ],
    }),
    tableSchema({
      name: 'notes',
      columns: [
        { name: 'title', type: 'string' },
        { name: 'done', type: 'boolean' },
        { name: 'weight', type: 'number', isOptional: true },
        { name: 'due_at', type: 'number', isOptional: true },
        { name: 'metadata', type: 'string', isOptional: true },
        { name: 'space_id', type: 'string', isIndexed: true },
        ...syncColumns,
      ],
    }),
    tableSchema({
      name: 'tags',
      columns: [{ name: 'label', type: 'string' }, { name: 'color', type: 'string', isOptional: true }, ...syncColumns],
    }),
    ...runtimeTables,
  ],
});

export const migrations = schemaMigrations({ migrations: [] });

const sanitizeJson = (value: unknown): unknown => value ?? null;

export class Space extends Model {
  static override table = 'spaces';
  static override associations = { notes: { type: 'has_many' as const, foreignKey: 'space_id' } };
  @field('name') name!: string;
  @field('kind') kind!: 'PERSONAL' | 'TEAM';
  @field('position') position!: number;
  @field('owner_id') ownerId!: string;
  @field('server_id') serverId!: string | null;
  @field('version') version!: number;
}

export class Note extends Model {
  static override table = 'notes';
  static override associations = { spaces: { type: 'belongs_to' as const, key: 'space_id' } };
  @field('title') title!: string;
  @field('done') done!: boolean;
  @field('weight') weight!: number | null;
  @date('due_at') dueAt!: Date | null;
  @json('metadata', sanitizeJson) metadata!: unknown;
  @field('space_id') spaceId!: string;
  @relation('spaces', 'space_id') space!: Relation<Space>;
}

export const spaceDescriptor: EntityDescriptor = {
  name: 'Space',
  table: 'spaces',
  conflict: 'timestamp',
  tombstone: 'deletedAt',
  parents: [],
  fields: [
    { name: 'name', column: 'name', kind: 'String', optional: false, access: 'synced' },
    {
      name: 'kind',
      column: 'kind',
      kind: 'Enum',
      optional: false,
      access: 'synced',
      hasDefault: true,
      defaultValue: 'TEAM',
      enumValues: ['PERSONAL', 'TEAM'],
    },
    {
      name: 'position',
      column: 'position',
      kind: 'Int',
      optional: false,
      access: 'synced',
      hasDefault: true,
      defaultValue: 0,
    },
    { name: 'ownerId', column: 'owner_id', kind: 'String', optional: false, access: 'readonly' },
    { name: 'coverUrl', column: 'cover_url', kind: 'String', optional: true, access: 'media' },
  ],
};

export const noteDescriptor: EntityDescriptor = {
  name: 'Note',
  table: 'notes',
  conflict: 'manual',
  tombstone: 'deletedAt',
  parents: ['Space'],
  fields: [
    { name: 'title', column: 'title', kind: 'String', optional: false, access: 'synced' },
    {
      name: 'done',
      column: 'done',
      kind: 'Boolean',
      optional: false,
      access: 'synced',
      hasDefault: true,
      defaultValue: false,
    },
    { name: 'weight', column: 'weight', kind: 'Float', optional: true, access: 'synced' },
    { name: 'dueAt', column: 'due_at', kind: 'DateTime', optional: true, access: 'synced' },
    { name: 'metadata', column: 'metadata', kind: 'Json', optional: true, access: 'synced' },
    { name: 'spaceId', column: 'space_id', kind: 'String', optional: false, access: 'synced', relation: 'Space' },
  ],
};

export class Tag extends Model {
  static override table = 'tags';
  @field('label') label!: string;
  @field('color') color!: string | null;
}

export const tagDescriptor: EntityDescriptor = {
  name: 'Tag',
  table: 'tags',
  conflict: 'merge',
  tombstone: 'deletedAt',
  parents: [],
  fields: [
    { name: 'label', column: 'label', kind: 'String', optional: false, access: 'synced' },
    { name: 'color', column: 'color', kind: 'String', optional: true, access: 'synced' },
  ],
};

export const entities: EntityDescriptor[] = [spaceDescriptor, noteDescriptor, tagDescriptor];

export interface SpaceRecord extends SyncedRecord {
  name: string;
  kind: 'PERSONAL' | 'TEAM';
  position: number;
  ownerId: string;
  coverUrl: string | null;
}
export interface SpaceCreateInput {
  name: string;
  kind?: 'PERSONAL' | 'TEAM';
  position?: number;
  ownerId: string;
  coverUrl?: string | null;
}
export interface SpaceUpdateInput {
  name?: string;
  kind?: 'PERSONAL' | 'TEAM';
  position?: number;
  coverUrl?: string | null;
}

export interface NoteRecord extends SyncedRecord {
  title: string;
  done: boolean;
  weight: number | null;
  dueAt: Date | null;
  metadata: unknown;
  spaceId: string;
}
export interface NoteCreateInput {
  title: string;
  done?: boolean;
  weight?: number | null;
  dueAt?: Date | null;
  metadata?: unknown;
  spaceId: string;
}
export type NoteUpdateInput = Partial<NoteCreateInput>;

export interface TagRecord extends SyncedRecord {
  label: string;
  color: string | null;
}
export interface TagInput {
  label?: string;
  color?: string | null;
}

export class AppClient extends TrackhubClient {
  readonly spaces: OfflineFirstService<SpaceRecord, SpaceCreateInput, SpaceUpdateInput, Space>;
  readonly notes: OfflineFirstService<NoteRecord, NoteCreateInput, NoteUpdateInput, Note>;
  readonly tags: OfflineFirstService<TagRecord, TagInput & { label: string }, TagInput, Tag>;
  constructor(options: TrackhubConnectionOptions) {
    super({ ...options, schema, migrations, modelClasses: [Space, Note, Tag], entities });
    this.spaces = new OfflineFirstService(this, spaceDescriptor);
    this.notes = new OfflineFirstService(this, noteDescriptor);
    this.tags = new OfflineFirstService(this, tagDescriptor);
  }
}
