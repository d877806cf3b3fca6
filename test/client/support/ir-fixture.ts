/**
 * A small hand-built ProjectIR (independent of src/model/build.ts) covering
 * what the TrackHub fixture does not: a self relation, a global entity, no enums,
 * field names that clash with WatermelonDB's Model and client members.
 */
import type { EntityIR, FieldIR, ProjectIR } from '../../../src/model/types.js';

const at = { file: 'mini.prisma', line: 1, col: 1 };

function f(name: string, column: string, kind: FieldIR['kind'], extra: Partial<FieldIR> = {}): FieldIR {
  return {
    name,
    column,
    dbName: name,
    kind,
    optional: false,
    hasDefault: false,
    role: 'data',
    access: 'synced',
    location: at,
    ...extra,
  };
}

const conventions = (tenant: string | null): FieldIR[] => [
  f('id', 'id', 'String', { role: 'id', hasDefault: true }),
  f('clientId', 'client_id', 'String', { role: 'clientId', optional: true }),
  f('version', 'version', 'Int', { role: 'version', hasDefault: true, defaultValue: 1 }),
  f('updatedAt', 'updated_at', 'DateTime', { role: 'updatedAt', hasDefault: true }),
  ...(tenant ? [f(tenant, 'tenant_id', 'String', { role: 'tenant' })] : []),
];

const folderData: FieldIR[] = [
  f('title', 'title', 'String'),
  f('collection', 'collection', 'String', { optional: true }),
  f('parentId', 'parent_id', 'String', { optional: true, relation: { entity: 'Folder', navigation: 'parent', onDelete: 'SetNull' } }),
  f('settings', 'settings', 'Json', { hasDefault: true, defaultValue: '{}' }),
  f('deletedAt', 'deleted_at', 'DateTime', { role: 'deletedAt', optional: true }),
];

const folder: EntityIR = {
  name: 'Folder',
  typeName: 'Folder',
  camel: 'folder',
  kebab: 'folder',
  table: 'folders',
  dbName: 'Folder',
  plural: 'folders',
  tenantField: 'tenantId',
  tenantKind: 'String',
  uniques: [],
  serverMintsId: false,
  conflict: 'manual',
  fields: [...conventions('tenantId'), ...folderData],
  insertDefaults: { settings: { value: {} } },
  dataFields: folderData.filter((x) => x.role === 'data'),
  parents: [],
  tombstone: 'deletedAt',
  location: at,
  description: 'A folder. Comments with */ are escaped.',
};

const entityData: FieldIR[] = [
  f('label', 'label', 'String'),
  f('folderId', 'folder_id', 'String', { relation: { entity: 'Folder', navigation: 'database', onDelete: 'Restrict' } }),
  f('seenAt', 'seen_at', 'DateTime', { optional: true }),
  f('score', 'score', 'Float', { hasDefault: true, defaultValue: 1.5 }),
];

/** Named `Entity` so its plural `entities` clashes with TrackhubClient#entities. */
const entity: EntityIR = {
  name: 'Entity',
  typeName: 'Entity',
  camel: 'entity',
  kebab: 'entity',
  table: 'entities',
  dbName: 'Entity',
  plural: 'entities',
  tenantField: null,
  tenantKind: 'String',
  uniques: [],
  serverMintsId: false,
  conflict: 'timestamp',
  insertDefaults: null,
  fields: [
    ...conventions(null),
    f('deletedAt', 'deleted_at', 'DateTime', { role: 'deletedAt', optional: true }),
    ...entityData,
  ],
  dataFields: entityData,
  parents: ['Folder'],
  tombstone: 'deletedAt',
  location: at,
};

export const miniProject: ProjectIR = {
  schemaPath: 'mini.prisma',
  provider: 'sqlite',
  entities: [folder, entity],
  enums: [],
};
