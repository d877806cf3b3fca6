/**
 * Client emitter: the WatermelonDB side of every `@sync` entity, over the
 * shared runtime (`options.runtimeClient`).
 *
 *   client/generated/schema.ts                         appSchema: entity tables + runtime tables
 *   client/generated/migrations.ts                     schemaMigrations
 *   client/generated/enums.ts                          enum constants and types (when there are enums)
 *   client/generated/models/<Name>.ts                  decorated Model class
 *   client/generated/descriptors.ts                    runtime entity descriptors, dependency order
 *   client/generated/services/OfflineFirst<Name>Service.ts   typed service + record / input types
 *   client/generated/database.ts                       per-tenant database + typed client
 *   client/generated/index.ts                          barrel
 *
 * Pure: a function of the model and the options. Templates live in templates/client/.
 */
import { operationSourcesFile } from '../graphql/operations.js';
import { artifactsOf, requiredOnCreate, updatable } from '../../model/artifacts.js';
import type { EntityIR, FieldIR, ProjectIR } from '../../model/types.js';
import { RUNTIME_TABLE_SPECS, SYNC_COLUMN_SCHEMAS } from '../../contract/columns.js';
import { Code, fitList, importLine, printLiteral } from '../layout.js';
import { tsLiteral } from '../literal.js';
import { renderTemplate } from '../render.js';
import { CLIENT_SNAPSHOT_PATH, nextClientSchema, printSnapshot, type ColumnSnapshot, type TableSnapshot } from './schema-snapshot.js';
import type { EmittedFile, Emitter } from '../types.js';

const OUT = 'client/generated';

/** Where the committed client schema snapshot lives, relative to --out. */
export { CLIENT_SNAPSHOT_PATH } from './schema-snapshot.js';

function column(c: { name: string; type: ColumnSnapshot['type']; isOptional?: boolean; isIndexed?: boolean }): ColumnSnapshot {
  return { name: c.name, type: c.type, ...(c.isOptional ? { isOptional: true } : {}), ...(c.isIndexed ? { isIndexed: true } : {}) };
}

/** The device schema the model asks for: entity tables plus the runtime's tables. */
function currentTables(entities: EntityView[]): TableSnapshot[] {
  return [
    ...entities.map((e) => ({
      name: e.table,
      columns: [
        ...e.fields.map((f) => column({ name: f.column, type: f.columnType as ColumnSnapshot['type'], isOptional: f.optional, isIndexed: f.indexed })),
        ...SYNC_COLUMN_SCHEMAS.map(column),
      ],
    })),
    ...RUNTIME_TABLE_SPECS.map((t) => ({ name: t.name, columns: t.columns.map((c) => column(c)) })),
  ];
}

/** A migration step's columns, laid out like prettier after `columns: ` at indent 10. */
function columnsCode(columns: readonly ColumnSnapshot[]): string {
  const value = columns.map((c) => ({ name: c.name, type: c.type, ...(c.isOptional ? { isOptional: true } : {}), ...(c.isIndexed ? { isIndexed: true } : {}) }));
  return printLiteral(value, 10, 'columns: '.length, ',');
}

function columnSource(c: ColumnSnapshot): string {
  return `{ name: ${quote(c.name)}, type: ${quote(c.type)}${c.isOptional ? ', isOptional: true' : ''}${c.isIndexed ? ', isIndexed: true' : ''} }`;
}

/** WatermelonDB Model members a generated property must not shadow. */
const MODEL_RESERVED = new Set([
  'id',
  '_raw',
  'table',
  'collection',
  'collections',
  'database',
  'db',
  'asModel',
  'syncStatus',
  'update',
  'prepareUpdate',
  'prepareMarkAsDeleted',
  'prepareDestroyPermanently',
  'markAsDeleted',
  'destroyPermanently',
  'observe',
  'batch',
  'callWriter',
  'callReader',
  'subAction',
  'constructor',
  'serverId',
  'clientId',
  'version',
  'serverUpdatedAt',
  'deletedAt',
  'createdAt',
  'updatedAt',
]);
/** TrackhubClient members a service property must not shadow (test/client/reserved.test.ts checks them against the class). */
export const CLIENT_RESERVED: ReadonlySet<string> = new Set([
  'tenantId',
  'auth',
  'authState',
  'setToken',
  'onAuthStateChange',
  'signOut',
  'assertOpen',
  'rotateEncryptionKey',
  'dbFile',
  'encryption',
  'ownsDatabase',
  'signedOut',
  'database',
  'transport',
  'engine',
  'scopes',
  'entities',
  'queue',
  'isSyncing',
  'entity',
  'syncAll',
  'syncPush',
  'syncPull',
  'forceSyncFromServer',
  'forcePushLocal',
  'listConflicts',
  'resolveConflict',
  'queueSize',
  'metrics',
  'close',
  'closed',
  'ensureOpen',
  'givenUp',
  'retryGivenUp',
  'reported',
  'databaseSize',
  'onMetrics',
  'blobs',
  'deviceReport',
  'hasUploader',
  'reportMetrics',
  'uploads',
  'withReport',
]);

const COLUMN_TYPE: Record<FieldIR['kind'], 'string' | 'number' | 'boolean'> = {
  String: 'string',
  Enum: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  DateTime: 'number',
  Json: 'string',
};

function tsType(field: FieldIR, side: 'read' | 'input'): string {
  switch (field.kind) {
    case 'String':
      return 'string';
    case 'Enum':
      return field.enumName!;
    case 'Int':
    case 'Float':
      return 'number';
    case 'Boolean':
      return 'boolean';
    case 'DateTime':
      return 'Date';
    case 'Json':
      return side === 'read' ? 'JsonValue' : 'unknown';
  }
}

function withNull(type: string, optional: boolean): string {
  return optional && type !== 'unknown' ? `${type} | null` : type;
}

function property(name: string): string {
  return MODEL_RESERVED.has(name) ? `${name}Value` : name;
}

const quote = (value: string): string => tsLiteral(value);

function docComment(text: string | undefined): string {
  if (!text || !text.trim()) return '';
  const lines = text.trim().replace(/\*\//g, '*\\/').split('\n');
  return `/**\n${lines.map((l) => ` * ${l.trimEnd()}`.trimEnd()).join('\n')}\n */\n`;
}

interface FieldView {
  name: string;
  prop: string;
  column: string;
  columnType: string;
  optional: boolean;
  indexed: boolean;
  decorator: string;
  readType: string;
  createType: string;
  createOptional: boolean;
  updatable: boolean;
  /** The runtime's field descriptor (printed by emitters/layout.ts printLiteral). */
  descriptor: Record<string, unknown>;
}

function fieldView(project: ProjectIR, field: FieldIR): FieldView {
  const enumValues = field.kind === 'Enum' ? project.enums.find((e) => e.name === field.enumName)?.values : undefined;
  const descriptor = {
    name: field.name,
    column: field.column,
    kind: field.kind,
    optional: field.optional,
    access: field.access,
    ...(field.hasDefault ? { hasDefault: true } : {}),
    // A Json literal default is JSON text in Prisma: leave it to the server.
    ...(field.defaultValue !== undefined && field.kind !== 'Json' ? { defaultValue: field.defaultValue } : {}),
    ...(enumValues ? { enumValues: [...enumValues] } : {}),
    ...(field.relation ? { relation: field.relation.entity, onDelete: field.relation.onDelete } : {}),
  };
  const decorator =
    field.kind === 'DateTime'
      ? `@date(${quote(field.column)})`
      : field.kind === 'Json'
        ? `@json(${quote(field.column)}, jsonValue)`
        : `@field(${quote(field.column)})`;
  return {
    name: field.name,
    prop: property(field.name),
    column: field.column,
    columnType: COLUMN_TYPE[field.kind],
    optional: field.optional,
    indexed: field.relation !== undefined,
    decorator,
    readType: withNull(tsType(field, 'read'), field.optional),
    createType: withNull(tsType(field, 'input'), field.optional),
    createOptional: !requiredOnCreate(field),
    updatable: updatable(field),
    descriptor,
  };
}

interface EntityView {
  name: string;
  /** Class name (EntityIR.typeName). */
  className: string;
  camel: string;
  /** File stem of the user-owned hooks file (`client/hooks/<kebab>.hooks.ts`). */
  kebab: string;
  /** Its export, e.g. `spaceHooks`. */
  hooksName: string;
  table: string;
  service: string;
  serviceClass: string;
  descriptorName: string;
  description: string;
  conflict: string;
  tombstone: string;
  parents: string;
  /** Partial sync: the scope literal, when the entity is synced by scope. */
  scope?: string;
  fields: FieldView[];
  enums: string[];
  usesDate: boolean;
  usesJson: boolean;
  associations: { table: string; info: string }[];
  relations: { prop: string; table: string; column: string; target: string }[];
  relationTargets: string[];
  hasRelations: boolean;
  hasAssociations: boolean;
  hasEnums: boolean;
  /** `@sync.media` fields and their typed `attach<Field>` helper names. */
  mediaFields: { name: string; method: string }[];
  /** Names of its typed online operations (client/generated/operations.ts). */
  operations: { get: string; list: string; create: string };
}

/** `coverUrl` -> `attachCoverUrl` (never the base class's own `attachFile`). */
function attachMethod(field: string): string {
  const method = `attach${field.charAt(0).toUpperCase()}${field.slice(1)}`;
  return method === 'attachFile' ? 'attachFileField' : method;
}

/** What every entity's view looks up: entities by name, and the relation fields pointing at each entity. */
interface ProjectIndex {
  byName: Map<string, EntityIR>;
  /** Per target entity name: [child entity, relation field] in entity order. */
  children: Map<string, [EntityIR, FieldIR][]>;
}

function indexProject(project: ProjectIR): ProjectIndex {
  const children = new Map<string, [EntityIR, FieldIR][]>();
  for (const child of project.entities)
    for (const f of child.dataFields)
      if (f.relation) {
        const list = children.get(f.relation.entity) ?? [];
        list.push([child, f]);
        children.set(f.relation.entity, list);
      }
  return { byName: new Map(project.entities.map((e) => [e.name, e])), children };
}

function entityView(project: ProjectIR, entity: EntityIR, index: ProjectIndex): EntityView {
  const { byName } = index;
  const fields = entity.dataFields.map((f) => fieldView(project, f));
  const relations = entity.dataFields
    .filter((f) => f.relation && byName.has(f.relation.entity))
    .map((f) => ({
      prop: property(f.relation!.navigation),
      table: byName.get(f.relation!.entity)!.table,
      column: f.column,
      target: byName.get(f.relation!.entity)!.typeName,
    }));
  // WatermelonDB keys associations by table: the first foreign key to a table wins.
  const associations = new Map<string, string>();
  for (const r of relations)
    if (!associations.has(r.table)) associations.set(r.table, `{ type: 'belongs_to', key: ${quote(r.column)} }`);
  for (const [child, f] of index.children.get(entity.name) ?? []) {
    if (!associations.has(child.table)) associations.set(child.table, `{ type: 'has_many', foreignKey: ${quote(f.column)} }`);
  }
  const enums = [...new Set(entity.dataFields.filter((f) => f.kind === 'Enum').map((f) => f.enumName!))].sort();
  const relationTargets = [...new Set(relations.map((r) => r.target).filter((t) => t !== entity.typeName))].sort();
  const plural = CLIENT_RESERVED.has(entity.plural) ? `${entity.plural}Service` : entity.plural;
  return {
    name: entity.name,
    className: entity.typeName,
    camel: entity.camel,
    kebab: entity.kebab,
    hooksName: `${entity.camel}Hooks`,
    table: entity.table,
    service: plural,
    serviceClass: artifactsOf(entity).serviceClass,
    descriptorName: `${entity.camel}Descriptor`,
    description: docComment(entity.description),
    conflict: quote(entity.conflict),
    tombstone: quote(entity.tombstone),
    parents: printLiteral([...entity.parents], 2, 'parents: '.length, ','),
    ...(entity.scope ? { scope: printLiteral(entity.scope, 2, 'scope: '.length, ',') } : {}),
    fields,
    enums,
    usesDate: entity.dataFields.some((f) => f.kind === 'DateTime'),
    usesJson: entity.dataFields.some((f) => f.kind === 'Json'),
    associations: [...associations.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([table, info]) => ({ table, info })),
    relations,
    relationTargets,
    hasRelations: relations.length > 0,
    hasAssociations: associations.size > 0,
    hasEnums: enums.length > 0,
    mediaFields: entity.dataFields
      .filter((f) => f.access === 'media')
      .map((f) => ({ name: f.name, method: attachMethod(f.name) })),
    operations: artifactsOf(entity).operations,
  };
}

function decoratorImports(view: EntityView): string[] {
  // `date` is always needed: server_updated_at and deleted_at are dates.
  const names = new Set(['date', 'field']);
  if (view.usesJson) {
    names.add('json');
    names.add('jsonValue');
  }
  if (view.hasRelations) names.add('relation');
  return [...names].sort();
}

/** The service file's lines whose length follows the entity's names, laid out like prettier. */
function serviceLayout(entity: EntityView, runtime: string) {
  const c = entity.className;
  return {
    runtimeTypeImport: importLine([...(entity.usesJson ? ['JsonValue'] : []), 'SyncedRecord', 'TrackhubClient'], runtime, true),
    enumImport: importLine(entity.enums, '../enums.js', true),
    classLine: fitList({
      indent: 0,
      open: `export class ${entity.serviceClass} extends OfflineFirstService<`,
      close: '> {',
      items: [`${c}Record`, `${c}CreateInput`, `${c}UpdateInput`, c],
      spaced: false,
      trailingComma: false,
    }),
    mediaFields: entity.mediaFields.map((m) => ({
      name: m.name,
      signature: fitList({
        indent: 2,
        open: `${m.method}(`,
        close: '): Promise<string> {',
        items: ['id: string', 'file: string | Blob', 'meta?: { contentType?: string }'],
        spaced: false,
      }),
    })),
  };
}

/** The model file's view: its import lines and `associations(...)` laid out in their final format. */
function modelView(entity: EntityView, runtime: string) {
  const local = [
    ...(entity.hasEnums ? [importLine(entity.enums, '../enums.js', true)] : []),
    ...entity.relationTargets.map((t) => importLine([t], `./${t}.js`, true)),
  ];
  const head = 'static override associations = associations(';
  const items = entity.associations.map((a) => `['${a.table}', ${a.info}]`);
  let associationsCode: string;
  if (items.length === 0) associationsCode = `${head});`;
  else if (items.length === 1) {
    // One array argument hugs the parentheses: `associations([...])`, broken inside the brackets.
    const a = entity.associations[0]!;
    associationsCode = fitList({ indent: 2, open: `${head}[`, close: ']);', items: [quote(a.table), a.info], spaced: false });
  } else associationsCode = `${head}\n${items.map((i) => `    ${i},`).join('\n')}\n  );`;
  return {
    entity,
    decoratorImport: importLine(decoratorImports(entity), runtime),
    localImports: local.join('\n'),
    associationsCode,
  };
}

export const emitClient: Emitter = (project, options) => {
  const runtime = options.runtimeClient;
  const index = indexProject(project);
  const entities = project.entities.map((e) => entityView(project, e, index));
  const hasEnums = project.enums.length > 0;
  const files: EmittedFile[] = [];
  // `formatted`: the template lays out every variable-length line itself (emitters/layout.ts).
  const emit = (path: string, template: string, view: object, entity?: string, formatted = false): void => {
    files.push({
      path: `${OUT}/${path}`,
      content: renderTemplate(`client/${template}`, { runtime, ...view }),
      owner: 'generator',
      ...(entity ? { entity } : {}),
      ...(formatted ? { formatted } : {}),
    });
  };

  const snapshot = nextClientSchema(currentTables(entities), options.previousClientSchema);
  if (entities.length > 0) files.push({ path: `${OUT}/operation-sources.ts`, content: operationSourcesFile(project), owner: 'generator', formatted: true });
  files.push({ path: CLIENT_SNAPSHOT_PATH, content: printSnapshot(snapshot), owner: 'generator', formatted: true });
  emit(
    'schema.ts',
    'schema.ts.hbs',
    { version: snapshot.version, tables: snapshot.tables.map((t) => ({ name: t.name, columns: t.columns.map(columnSource) })) },
    undefined,
    true,
  );
  const stepTypes = new Set(snapshot.migrations.flatMap((m) => m.steps.map((st) => st.type)));
  emit('migrations.ts', 'migrations.ts.hbs', {
    imports: [
      ...(stepTypes.has('add_columns') ? ['addColumns'] : []),
      ...(stepTypes.has('create_table') ? ['createTable'] : []),
      'schemaMigrations',
    ].join(', '),
    version: snapshot.version,
    migrations: [...snapshot.migrations].reverse().map((m) => ({
      toVersion: m.toVersion,
      steps: m.steps.map((step) =>
        step.type === 'create_table'
          ? { createTable: true, addColumns: false, table: step.table.name, columns: columnsCode(step.table.columns) }
          : { createTable: false, addColumns: true, table: step.table, columns: columnsCode(step.columns) },
      ),
    })),
  }, undefined, true);
  if (hasEnums) {
    emit('enums.ts', 'enums.ts.hbs', {
      enums: project.enums.map((e) => ({
        name: e.name,
        values: e.values.map((v) => ({ key: /^[A-Za-z_$][\w$]*$/.test(v) ? v : quote(v), value: quote(v) })),
      })),
    }, undefined, true);
  }
  for (const entity of entities) {
    emit(`models/${entity.className}.ts`, 'model.ts.hbs', modelView(entity, runtime), entity.name, true);
    emit(`services/${entity.serviceClass}.ts`, 'service.ts.hbs', { entity, layout: serviceLayout(entity, runtime) }, entity.name, true);
  }
  emit(
    'descriptors.ts',
    'descriptors.ts.hbs',
    {
      entities: entities.map((e) => ({ ...e, fieldsCode: printLiteral(e.fields.map((f) => f.descriptor), 2, 'fields: '.length, ',') })),
      descriptorList: printLiteral(entities.map((e) => new Code(e.descriptorName)), 0, 'export const entityDescriptors: EntityDescriptor[] = '.length, ';'),
    },
    undefined,
    true,
  );
  // Partial sync: the entities some scoped entity's path leads to.
  const roots = [...new Set(project.entities.flatMap((e) => (e.scope ? [e.scope.root] : [])))].sort();
  emit(
    'database.ts',
    'database.ts.hbs',
    {
      entities,
      typeImport: importLine(['ClientHooksByEntity', 'ModelClass', ...(roots.length ? ['ScopeSubscriptions'] : []), 'TenantDatabaseOptions', 'TrackhubConnectionOptions'], runtime, true),
      ...(roots.length ? { scopeRoots: roots.map((r) => quote(r)).join(' | ') } : {}),
      modelClassList: printLiteral(entities.map((e) => new Code(e.className)), 0, 'export const modelClasses: ModelClass[] = '.length, ';'),
    },
    undefined,
    true,
  );
  // Your hooks around each entity's sync: created once, never overwritten.
  for (const entity of entities) {
    files.push({
      path: `client/hooks/${entity.kebab}.hooks.ts`,
      content: renderTemplate('client/hooks.ts.hbs', { entity }),
      owner: 'user',
      entity: entity.name,
      formatted: true,
    });
  }
  emit('index.ts', 'index.ts.hbs', { entities, hasEnums }, undefined, true);
  return files;
};
