/**
 * Server emitter: per entity a NestJS GraphQL module (object/input types,
 * descriptor, CRUD service, resolver, module) over trackhub-gen/runtime/server,
 * plus the sync registry, enums, the root TrackhubModule and user-owned
 * scaffolding (token verifier, AppModule, main).
 */
import type { OnDeleteAction } from '../../contract/fields.js';
import type { EntityScope } from '../../contract/scopes.js';
import type { InsertDefault } from '../../contract/wire.js';
import { artifactsOf, requiredOnCreate, updatable } from '../../model/artifacts.js';
import { prismaDelegate } from '../../model/naming.js';
import type { EntityIR, FieldIR, ProjectIR } from '../../model/types.js';
import { Code, fitList, importLine, printLiteral } from '../layout.js';
import { renderTemplate } from '../render.js';
import type { EmitOptions, EmittedFile, Emitter } from '../types.js';

/** The generated module (under server/generated/) that re-exports the server runtime for user-owned files. */
export const SERVER_RUNTIME_MODULE = 'runtime.ts';

/** The runtime descriptor of an entity, as data (also handy for tests). */
export interface DescriptorView {
  name: string;
  delegate: string;
  table: string;
  tenantField: string | null;
  tenantKind?: 'Int';
  idKind?: 'Int';
  updatedAtNullable?: true;
  mintId?: true;
  conflict: EntityIR['conflict'];
  tombstone: EntityIR['tombstone'];
  tombstoneField: string;
  serverFields: string[];
  fields: Array<{
    name: string;
    kind: FieldIR['kind'];
    enumValues?: string[];
    optional: boolean;
    hasDefault: boolean;
    access: FieldIR['access'];
    relation?: { entity: string; delegate: string; tenantField: string | null; tenantKind?: 'Int'; idKind?: 'Int'; onDelete: OnDeleteAction };
    reference?: { model: string; delegate: string; key: string; tenantField: string | null; tenantKind?: 'Int' };
    maxLength?: number;
    format?: 'uuid';
  }>;
  uniques?: string[][];
  scope?: EntityScope;
  storage?: { table: string; schema?: string; columns: Record<string, string>; insert?: { columns: Record<string, string>; defaults: Record<string, InsertDefault> } };
}

export function descriptorOf(entity: EntityIR, project: ProjectIR): DescriptorView {
  const byName = new Map(project.entities.map((e) => [e.name, e]));
  const tombstoneField = entity.fields.find((f) => f.role === 'deletedAt')?.name ?? 'deletedAt';
  return {
    name: entity.name,
    delegate: prismaDelegate(entity.name),
    table: entity.table,
    tenantField: entity.tenantField,
    ...(entity.tenantKind === 'Int' ? { tenantKind: 'Int' as const } : {}),
    ...(entity.idKind === 'Int' ? { idKind: 'Int' as const } : {}),
    ...(entity.updatedAtOptional ? { updatedAtNullable: true as const } : {}),
    ...(entity.serverMintsId ? { mintId: true as const } : {}),
    conflict: entity.conflict,
    tombstone: entity.tombstone,
    tombstoneField,
    serverFields: entity.fields.filter((f) => f.role === 'createdAt').map((f) => f.name),
    ...(entity.uniques.length ? { uniques: entity.uniques } : {}),
    ...(entity.scope ? { scope: entity.scope } : {}),
    ...storageOf(entity, project),
    fields: entity.fields
      .filter((f) => f.role === 'data')
      .map((f) => {
        const target = f.relation ? byName.get(f.relation.entity) : undefined;
        if (f.relation && !target) throw new Error(`${entity.name}.${f.name}: relation to unknown @sync entity ${f.relation.entity}`);
        return {
          name: f.name,
          kind: f.kind,
          ...(f.kind === 'Enum' ? { enumValues: enumValues(project, f) } : {}),
          optional: f.optional,
          hasDefault: f.hasDefault,
          access: f.access,
          ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
          ...(f.format ? { format: f.format } : {}),
          ...(target
            ? {
                relation: {
                  entity: target.name,
                  delegate: prismaDelegate(target.name),
                  tenantField: target.tenantField,
                  ...(target.tenantKind === 'Int' ? { tenantKind: 'Int' as const } : {}),
                  ...(target.idKind === 'Int' ? { idKind: 'Int' as const } : {}),
                  onDelete: f.relation!.onDelete,
                },
              }
            : {}),
          ...(f.reference ? { reference: { ...f.reference, ...(f.reference.tenantField && entity.tenantKind === 'Int' ? { tenantKind: 'Int' as const } : {}) } } : {}),
        };
      }),
  };
}

/**
 * The entity's table and the columns a push may update, for the batched push's bulk
 * statements (runtime/server/bulk-update.ts). Given only when every such column takes the
 * value Prisma would write from the statement's own encoding: a `DateTime` stored as a bare
 * date or time (`@db.Date`, `@db.Time`) or an enum with `@map`ped values is left to Prisma,
 * and then the entity's updates are written one guarded `updateMany` each.
 */
function storageOf(entity: EntityIR, project: ProjectIR): { storage?: NonNullable<DescriptorView['storage']> } {
  const written = entity.fields.filter(
    (f) => ['id', 'version', 'updatedAt', 'deletedAt', 'tenant'].includes(f.role) || (f.role === 'data' && f.access !== 'ignore'),
  );
  const plain = (f: FieldIR): boolean =>
    f.kind === 'DateTime'
      ? !['Date', 'Time', 'Timetz'].includes(f.nativeType ?? '')
      : f.kind !== 'Enum' || !project.enums.find((e) => e.name === f.enumName)?.mapped;
  if (!written.every(plain)) return {};
  const columns: Record<string, string> = {};
  for (const f of written) columns[f.name] = f.dbName;
  const insert = insertOf(entity, plain, columns);
  return { storage: { table: entity.dbName, ...(entity.dbSchema ? { schema: entity.dbSchema } : {}), columns, ...(insert ? { insert } : {}) } };
}

/**
 * What the batched push's bulk INSERTs need besides the update columns
 * (runtime/server/bulk-insert.ts): the other columns a create writes (clientId, server
 * stamps, fields devices never see) and the defaults Prisma's client would compute. Left
 * out when a default cannot be reproduced or sits on a column written with its own
 * encoding; then the entity's creates go through Prisma's `createManyAndReturn`.
 */
function insertOf(
  entity: EntityIR,
  plain: (f: FieldIR) => boolean,
  updateColumns: Record<string, string>,
): { columns: Record<string, string>; defaults: Record<string, InsertDefault> } | undefined {
  const defaults = entity.insertDefaults;
  if (!defaults) return undefined;
  const columns: Record<string, string> = {};
  for (const f of entity.fields) {
    if (f.name in updateColumns) continue;
    if (plain(f)) columns[f.name] = f.dbName;
    else if (f.name in defaults) return undefined;
  }
  return { columns, defaults };
}

function enumValues(project: ProjectIR, f: FieldIR): string[] {
  const e = project.enums.find((x) => x.name === f.enumName);
  if (!e) throw new Error(`field ${f.name}: unknown enum ${String(f.enumName)}`);
  return [...e.values];
}

/** A descriptor member's value laid out like prettier, after `  key: ` and before `,`. */
const member = (key: string, value: unknown): string => printLiteral(value, 2, key.length + 2, ',');

function descriptorLiteral(d: DescriptorView) {
  return {
    name: member('name', d.name),
    delegate: member('delegate', d.delegate),
    table: member('table', d.table),
    tenantField: member('tenantField', d.tenantField),
    ...(d.tenantKind ? { tenantKind: member('tenantKind', d.tenantKind) } : {}),
    ...(d.idKind ? { idKind: member('idKind', d.idKind) } : {}),
    ...(d.updatedAtNullable ? { updatedAtNullable: 'true' } : {}),
    ...(d.mintId ? { mintId: 'true' } : {}),
    conflict: member('conflict', d.conflict),
    tombstone: member('tombstone', d.tombstone),
    tombstoneField: member('tombstoneField', d.tombstoneField),
    serverFields: member('serverFields', d.serverFields),
    ...(d.uniques ? { uniques: member('uniques', d.uniques) } : {}),
    ...(d.scope ? { scope: member('scope', d.scope) } : {}),
    fields: member('fields', d.fields),
    ...(d.storage ? { storage: member('storage', d.storage) } : {}),
  };
}

// ------------------------------------------------------------------ GraphQL / TS types

const GQL: Record<Exclude<FieldIR['kind'], 'Enum'>, string> = {
  String: 'String',
  Int: 'Int',
  Float: 'Float',
  Boolean: 'Boolean',
  DateTime: 'GraphQLDateTime',
  Json: 'GraphQLJSON',
};

const TS: Record<Exclude<FieldIR['kind'], 'Enum'>, string> = {
  String: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  DateTime: 'Date',
  Json: 'JsonValue',
};

interface FieldView {
  name: string;
  gqlType: string;
  tsType: string;
  nullable: boolean;
  /** `name!:` or `name?:` */
  mark: '!' | '?';
}

function gqlTypeOf(f: FieldIR): string {
  return f.kind === 'Enum' ? f.enumName! : GQL[f.kind];
}

function tsTypeOf(f: FieldIR): string {
  return f.kind === 'Enum' ? f.enumName! : TS[f.kind];
}

function fieldView(f: FieldIR, nullable: boolean, optionalProperty: boolean): FieldView {
  const base = tsTypeOf(f);
  return {
    name: f.name,
    gqlType: gqlTypeOf(f),
    tsType: nullable ? `${base} | null` : base,
    nullable,
    mark: optionalProperty ? '?' : '!',
  };
}

/** Import list text, sorted and deduplicated. */
function names(list: Iterable<string>): string {
  return [...new Set(list)].sort().join(', ');
}

/** `./a/b.ts` relative import path (NodeNext: with the .js extension). */
const js = (path: string): string => `${path}.js`;

/** The service's and resolver's lines whose length follows the entity's name, laid out like prettier. */
function layoutLines(entity: EntityIR, hasUpdateFields: boolean) {
  const t = entity.typeName;
  const model = js(`./${entity.kebab}.model`);
  const service = `${entity.camel}Service`;
  return {
    resolverModelImport: importLine([t, `${t}CreateInput`, `${t}Page`, ...(hasUpdateFields ? [`${t}UpdateInput`] : [])], model),
    resolverConstructor: fitList({ indent: 2, open: 'constructor(', close: ') {}', items: [`@Inject(${t}Service) private readonly ${service}: ${t}Service`], spaced: false }),
    serviceModelImport: importLine([t, `${t}CreateInput`, ...(hasUpdateFields ? [`${t}UpdateInput`] : [])], model, true),
    serviceClassLine: fitList({
      indent: 0,
      open: `export class ${t}Service extends CrudService<`,
      close: '> {',
      items: [t, `${t}CreateInput`, hasUpdateFields ? `${t}UpdateInput` : 'Record<string, never>'],
      spaced: false,
      trailingComma: false,
    }),
  };
}

// ------------------------------------------------------------------ emitter

export const emitServer: Emitter = (project: ProjectIR, options: EmitOptions): EmittedFile[] => {
  const runtime = options.runtimeServer;
  const files: EmittedFile[] = [];
  // `formatted`: the template lays out every variable-length line itself (emitters/layout.ts).
  const gen = (path: string, content: string, entity?: string, formatted = false): void => {
    files.push({ path: `server/generated/${path}`, content, owner: 'generator', ...(entity ? { entity } : {}), ...(formatted ? { formatted } : {}) });
  };

  for (const entity of project.entities) {
    const data = entity.dataFields; // synced | readonly | media
    const objectFields = data.map((f) => fieldView(f, f.optional, false));
    const createFields = data.map((f) => {
      const required = requiredOnCreate(f);
      return fieldView(f, !required, !required);
    });
    const updateFields = data.filter(updatable).map((f) => fieldView(f, true, true));
    const used = [...objectFields, ...createFields, ...updateFields];
    const enumsUsed = [...new Set(data.filter((f) => f.kind === 'Enum').map((f) => f.enumName!))].sort();
    const nest = ['Field', 'ID', 'InputType', 'Int', 'ObjectType'];
    for (const v of used) if (['Float'].includes(v.gqlType)) nest.push(v.gqlType);
    const runtimeImports = ['GraphQLDateTime'];
    if (used.some((v) => v.gqlType === 'GraphQLJSON')) runtimeImports.push('GraphQLJSON');
    const runtimeTypeImports = used.some((v) => v.tsType.startsWith('JsonValue')) ? ['JsonValue'] : [];

    const view = {
      runtime,
      name: entity.name,
      typeName: entity.typeName,
      camel: entity.camel,
      kebab: entity.kebab,
      plural: entity.plural,
      // The resolver's injected field must not collide with its own method names.
      serviceField: `${entity.camel}Service`,
      description: entity.description ? entity.description.replace(/\*\//g, '*\\/').split('\n').map((l) => l.trimEnd()) : [],
      hasDescription: Boolean(entity.description),
      nestImports: names(nest),
      runtimeImports: names(runtimeImports),
      runtimeTypeImports: names(runtimeTypeImports),
      hasRuntimeTypeImports: runtimeTypeImports.length > 0,
      enumImports: names(enumsUsed),
      hasEnums: enumsUsed.length > 0,
      objectFields,
      createFields,
      updateFields,
      hasUpdateFields: updateFields.length > 0,
      // GraphQL names of the online mutations (contract/operations.ts).
      mutations: artifactsOf(entity).mutations,
      updatedAtOptional: Boolean(entity.updatedAtOptional),
      descriptor: descriptorLiteral(descriptorOf(entity, project)),
      ...layoutLines(entity, updateFields.length > 0),
    };
    const dir = artifactsOf(entity).serverDir;
    gen(`${dir}.model.ts`, renderTemplate('server/model.ts.hbs', view), entity.name, true);
    gen(`${dir}.descriptor.ts`, renderTemplate('server/descriptor.ts.hbs', view), entity.name, true);
    gen(`${dir}.service.ts`, renderTemplate('server/service.ts.hbs', view), entity.name, true);
    gen(`${dir}.resolver.ts`, renderTemplate('server/resolver.ts.hbs', view), entity.name, true);
    gen(`${dir}.module.ts`, renderTemplate('server/module.ts.hbs', view), entity.name, true);
  }

  const entities = project.entities.map((e) => ({
    name: e.name,
    typeName: e.typeName,
    camel: e.camel,
    kebab: e.kebab,
    descriptorImport: js(`../${e.kebab}/${e.kebab}.descriptor`),
    moduleImport: js(`./${e.kebab}/${e.kebab}.module`),
    base: `./${e.kebab}/${e.kebab}`,
  }));
  const enums = project.enums.map((e) => ({ name: e.name, values: e.values }));
  const hasMedia = project.entities.some((e) => e.dataFields.some((f) => f.access === 'media'));
  const common = { runtime, entities, enums, hasEnums: enums.length > 0, hasMedia };

  const descriptorList = printLiteral(
    entities.map((e) => new Code(`${e.camel}Descriptor`)),
    0,
    'export const syncDescriptors: readonly EntityDescriptor[] = '.length,
    ';',
  );
  gen('sync/sync.registry.ts', renderTemplate('server/sync-registry.ts.hbs', { ...common, descriptorList }), undefined, true);
  if (enums.length) gen('enums.ts', renderTemplate('server/enums.ts.hbs', common), undefined, true);
  gen('trackhub.module.ts', renderTemplate('server/trackhub-module.ts.hbs', common), undefined, true);
  gen('index.ts', renderTemplate('server/index.ts.hbs', common), undefined, true);
  gen(SERVER_RUNTIME_MODULE, renderTemplate('server/runtime.ts.hbs', common), undefined, true);

  // User-owned files import the runtime through the generated re-export, so a
  // change of `runtimeServer` never strands them on the old specifier.
  const user = (path: string, template: string, view: object = {}, entity?: string, formatted = false): void => {
    const depth = path.split('/').length - 1;
    const viaGenerated = `${depth ? '../'.repeat(depth) : './'}generated/${js(SERVER_RUNTIME_MODULE.replace(/\.ts$/, ''))}`;
    const content = renderTemplate(template, { ...common, ...view, runtime: viaGenerated });
    files.push({ path: `server/${path}`, content, owner: 'user', ...(entity ? { entity } : {}), ...(formatted ? { formatted } : {}) });
  };
  user('auth/token-verifier.ts', 'server/token-verifier.ts.hbs', {}, undefined, true);
  user('app.module.ts', 'server/app-module.ts.hbs', {}, undefined, true);
  user('main.ts', 'server/main.ts.hbs', {}, undefined, true);
  for (const e of project.entities) user(`hooks/${e.kebab}.hooks.ts`, 'server/hooks.ts.hbs', { name: e.name, camel: e.camel }, e.name, true);

  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
};
