/**
 * Schema -> the intermediate model. Every convention rule of PRODUCT.md is
 * checked here; all problems of a run are collected and thrown together.
 */
import path from 'node:path';

import { SYNC_COLUMNS, WATERMELON_COLUMNS } from '../runtime/client/descriptors.js';
import { RUNTIME_TABLES } from '../runtime/client/tables.js';
import { parseFieldAnnotations, parseModelAnnotation, descriptionOf } from '../schema/annotations.js';
import { SchemaError, sortDiagnostics, type Diagnostic } from '../schema/diagnostics.js';
import type { ModelPos } from '../schema/locate.js';
import type { DmmfField, DmmfModel } from '../schema/prisma-wasm.js';
import { readSchema, parseSchemaText, type ReadSchema } from '../schema/read.js';
import { clientUniqueKey, hasClientUnique, hasPullIndex, pullIndexPrefix } from './conventions.js';
import { camelCase, kebabCase, pluralize, snakeCase } from './naming.js';
import type { EntityIR, EnumIR, FieldIR, FieldRole, ProjectIR, ScalarKind, SourceLocation, SyncAccess } from './types.js';

/** Device column names WatermelonDB and the sync runtime own on every entity table. */
export const RESERVED_COLUMNS: readonly string[] = [...WATERMELON_COLUMNS, ...Object.values(SYNC_COLUMNS)];
/** Device tables the sync runtime owns. */
export const RESERVED_TABLES: readonly string[] = Object.values(RUNTIME_TABLES);

const SUPPORTED_SCALARS: Record<string, ScalarKind> = {
  String: 'String',
  Int: 'Int',
  Float: 'Float',
  Boolean: 'Boolean',
  DateTime: 'DateTime',
  Json: 'Json',
};

export async function loadProject(schemaPath: string): Promise<ProjectIR> {
  return buildProject(await readSchema(schemaPath));
}

export function projectFromText(text: string, file = 'schema.prisma'): ProjectIR {
  return buildProject(parseSchemaText(text, file));
}

export function buildProject(schema: ReadSchema): ProjectIR {
  const diagnostics: Diagnostic[] = [];
  const { file } = schema;
  const models = schema.datamodel.models;
  const synced = new Map<string, { model: DmmfModel; pos: ModelPos; tenant?: string; conflict?: EntityIR['conflict'] }>();

  for (const model of models) {
    const pos = schema.positions.models.get(model.name);
    if (!pos) continue;
    const annotation = parseModelAnnotation(file, model.name, pos.docs, diagnostics);
    if (annotation) synced.set(model.name, { model, pos, tenant: annotation.tenant, conflict: annotation.conflict });
    else {
      // Field annotations on a model without @sync would silently do nothing.
      for (const [fieldName, fpos] of pos.fields) {
        const docs = [...fpos.docsAbove, ...(fpos.doc ? [fpos.doc] : [])];
        const scratch: Diagnostic[] = [];
        const a = parseFieldAnnotations(file, model.name, fieldName, docs, scratch);
        if (a || scratch.length) {
          const doc = a?.doc ?? docs[0];
          diagnostics.push({
            location: { file, line: doc.line, col: a ? doc.textCol + a.offset : doc.textCol },
            rule: 'sync/annotation-without-sync',
            message: `field ${model.name}.${fieldName} has a sync annotation but model ${model.name} is not annotated with @sync`,
            fix: `add "/// @sync" above "model ${model.name}", or remove the annotation`,
          });
        }
      }
    }
  }

  const entities: EntityIR[] = [];
  for (const { model, pos, tenant, conflict } of synced.values()) {
    const entity = buildEntity(schema, model, pos, tenant ?? 'tenantId', conflict ?? 'timestamp', synced, diagnostics);
    if (entity) entities.push(entity);
  }

  // Client table name collisions.
  const tables = new Map<string, EntityIR>();
  for (const e of entities) {
    const other = tables.get(e.table);
    if (RESERVED_TABLES.includes(e.table) || other) {
      diagnostics.push({
        location: e.location,
        rule: 'sync/table-name',
        message: `model ${e.name} would use the device table "${e.table}", ${other ? `already used by ${other.name}` : 'which the sync runtime owns'}`,
        fix: `rename model ${e.name}`,
      });
    }
    tables.set(e.table, e);
  }

  if (diagnostics.length) throw new SchemaError(sortDiagnostics(diagnostics));

  const ordered = topoSort(entities, diagnostics);
  if (diagnostics.length) throw new SchemaError(sortDiagnostics(diagnostics));

  const usedEnums = new Set(ordered.flatMap((e) => e.fields.filter((f) => f.enumName).map((f) => f.enumName!)));
  const enums: EnumIR[] = schema.datamodel.enums
    .filter((en) => usedEnums.has(en.name))
    .map((en) => ({ name: en.name, values: en.values.map((v) => v.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));

  return { schemaPath: file.split(path.sep).join('/'), provider: schema.provider, entities: ordered, enums };
}

function topoSort(entities: EntityIR[], diagnostics: Diagnostic[]): EntityIR[] {
  const byName = new Map(entities.map((e) => [e.name, e]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: EntityIR[] = [];
  const visit = (e: EntityIR, chain: string[]): void => {
    if (done.has(e.name)) return;
    if (visiting.has(e.name)) {
      diagnostics.push({
        location: e.location,
        rule: 'sync/relation-cycle',
        message: `relations between @sync models form a cycle: ${[...chain, e.name].join(' -> ')}`,
        fix: 'devices push parents before children, so a cycle has no order: remove one relation of the cycle, or mark its foreign key /// @sync.ignore',
      });
      return;
    }
    visiting.add(e.name);
    for (const p of e.parents) if (p !== e.name) visit(byName.get(p)!, [...chain, e.name]);
    visiting.delete(e.name);
    done.add(e.name);
    out.push(e);
  };
  for (const e of [...entities].sort((a, b) => a.name.localeCompare(b.name))) visit(e, []);
  return out;
}

function buildEntity(
  schema: ReadSchema,
  model: DmmfModel,
  pos: ModelPos,
  tenantField: string,
  conflict: EntityIR['conflict'],
  synced: Map<string, unknown>,
  diagnostics: Diagnostic[],
): EntityIR | undefined {
  const { file } = schema;
  const before = diagnostics.length;
  const modelLoc: SourceLocation = { file, line: pos.line, col: pos.col };
  const at = (fieldName?: string, typeCol = false): SourceLocation => {
    const f = fieldName ? pos.fields.get(fieldName) : undefined;
    return f ? { file, line: f.line, col: typeCol ? f.typeCol : f.col } : modelLoc;
  };
  const err = (location: SourceLocation, rule: string, message: string, fix: string) =>
    diagnostics.push({ location, rule, message, fix });
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  const tenant = tenantField === 'none' ? null : tenantField;

  // --- convention fields -------------------------------------------------
  const id = byName.get('id');
  if (!id) err(modelLoc, 'sync/missing-id', `model ${model.name} has no "id" field`, 'add `id String @id @default(uuid())`');
  else if (id.type !== 'String' || !id.isId || !id.hasDefaultValue)
    err(at('id', true), 'sync/id-shape', `${model.name}.id must be \`String @id @default(uuid())\``, 'declare it as `id String @id @default(uuid())`');
  if (model.primaryKey)
    err(modelLoc, 'sync/composite-id', `model ${model.name} has a composite @@id; sync needs one String id`, 'replace @@id with `id String @id @default(uuid())` and a @@unique over the old key');
  const clientId = byName.get('clientId');
  if (!clientId) err(modelLoc, 'sync/missing-client-id', `model ${model.name} has no "clientId" field`, 'add `clientId String?` (the UUID v7 minted on the device)');
  else if (clientId.type !== 'String' || clientId.isList)
    err(at('clientId', true), 'sync/client-id-shape', `${model.name}.clientId must be \`String?\``, 'declare it as `clientId String?`');
  const version = byName.get('version');
  if (!version) err(modelLoc, 'sync/missing-version', `model ${model.name} has no "version" field`, 'add `version Int @default(1)`');
  else if (version.type !== 'Int' || !version.isRequired || version.default !== 1)
    err(at('version', true), 'sync/version-shape', `${model.name}.version must be \`Int @default(1)\``, 'declare it as `version Int @default(1)`');
  const updatedAt = byName.get('updatedAt');
  if (!updatedAt) err(modelLoc, 'sync/missing-updated-at', `model ${model.name} has no "updatedAt" field`, 'add `updatedAt DateTime @updatedAt`');
  else if (updatedAt.type !== 'DateTime' || !updatedAt.isUpdatedAt || !updatedAt.isRequired)
    err(at('updatedAt', true), 'sync/updated-at-shape', `${model.name}.updatedAt must be \`DateTime @updatedAt\``, 'declare it as `updatedAt DateTime @updatedAt`');
  const deletedAt = byName.get('deletedAt');
  const isDeleted = byName.get('isDeleted');
  let tombstone: EntityIR['tombstone'] = 'deletedAt';
  if (deletedAt) {
    if (deletedAt.type !== 'DateTime' || deletedAt.isRequired)
      err(at('deletedAt', true), 'sync/deleted-at-shape', `${model.name}.deletedAt must be \`DateTime?\``, 'declare it as `deletedAt DateTime?`');
  } else if (isDeleted && isDeleted.type === 'Boolean') {
    tombstone = 'isDeleted';
    err(at('isDeleted'), 'sync/is-deleted-unsupported', `${model.name} uses \`isDeleted Boolean\`; this version of trackhub-gen needs the \`deletedAt DateTime?\` tombstone`, 'replace isDeleted with `deletedAt DateTime?`');
  } else err(modelLoc, 'sync/missing-deleted-at', `model ${model.name} has no "deletedAt" field (the soft-delete tombstone)`, 'add `deletedAt DateTime?`');

  if (tenant) {
    const t = byName.get(tenant);
    if (!t)
      err(modelLoc, 'sync/missing-tenant', `model ${model.name} has no tenant field "${tenant}"`, tenantField === 'tenantId' ? 'add `tenantId String`, or name another field with @sync(tenant: "..."), or @sync(tenant: "none") for a global entity' : `add \`${tenant} String\` or fix the tenant option`);
    else if (t.type !== 'String' || !t.isRequired || t.isList)
      err(at(tenant, true), 'sync/tenant-shape', `tenant field ${model.name}.${tenant} must be a required \`String\``, `declare it as \`${tenant} String\``);
  }
  // Keys over a missing field would only repeat the error above.
  const keysCheckable = Boolean(clientId && updatedAt && (!tenant || byName.get(tenant)));
  const uniqueKey = clientUniqueKey(tenant);
  if (keysCheckable && !hasClientUnique(model, tenant))
    err(
      { file, line: pos.endLine, col: 1 },
      'sync/missing-client-unique',
      `model ${model.name} needs a unique (${uniqueKey.join(', ')}) so that a retried push never duplicates`,
      `add \`@@unique([${uniqueKey.join(', ')}])\` before the closing brace`,
    );
  const pullIndex = pullIndexPrefix(tenant);
  if (keysCheckable && !hasPullIndex(schema.datamodel, model, tenant))
    err(
      { file, line: pos.endLine, col: 1 },
      'sync/missing-pull-index',
      `model ${model.name} needs an index serving the pull order (${[...pullIndex, 'id'].join(', ')})`,
      `add \`@@index([${[...pullIndex, 'id'].join(', ')}])\` before the closing brace`,
    );

  // --- every field -------------------------------------------------------
  const fkTargets = new Map<string, { entity: string; navigation: string }>();
  for (const f of model.fields) {
    if (f.kind !== 'object') continue;
    if (!synced.has(f.type)) {
      err(at(f.name, true), 'sync/relation-to-unsynced', `${model.name}.${f.name} relates to ${f.type}, which is not a @sync model`, `annotate model ${f.type} with /// @sync, or remove the relation`);
      continue;
    }
    const from = f.relationFromFields ?? [];
    if (from.length > 1) {
      err(at(f.name, true), 'sync/composite-relation', `${model.name}.${f.name} uses a composite foreign key`, 'relate through the target\'s `id` with a single String field');
      continue;
    }
    if (from.length === 1) {
      if ((f.relationToFields ?? [])[0] !== 'id')
        err(at(f.name, true), 'sync/relation-not-to-id', `${model.name}.${f.name} must reference ${f.type}.id`, `use @relation(fields: [${from[0]}], references: [id])`);
      fkTargets.set(from[0], { entity: f.type, navigation: f.name });
    }
  }

  const fields: FieldIR[] = [];
  for (const f of model.fields) {
    if (f.kind === 'object') continue;
    const fpos = pos.fields.get(f.name);
    const docs = fpos ? [...fpos.docsAbove, ...(fpos.doc ? [fpos.doc] : [])] : [];
    const annotation = parseFieldAnnotations(file, model.name, f.name, docs, diagnostics);
    const role = roleOf(f.name, tenant);
    if (role !== 'data' && annotation) {
      err({ file, line: annotation.doc.line, col: annotation.doc.textCol + annotation.offset }, 'sync/annotation-on-convention-field', `${model.name}.${f.name} is a convention field; @sync.${annotation.access} does not apply to it`, 'remove the annotation');
    }
    const access: SyncAccess = role === 'data' ? annotation?.access ?? 'synced' : 'synced';
    const kind = kindOf(f);
    if (!kind) {
      if (access !== 'ignore')
        err(at(f.name, true), 'sync/unsupported-type', `${model.name}.${f.name} has type ${f.type}${f.isList ? '[]' : ''}, which trackhub-gen cannot sync`, unsupportedFix(f));
      continue;
    }
    if (f.isList) {
      if (access !== 'ignore')
        err(at(f.name, true), 'sync/unsupported-type', `${model.name}.${f.name} is a scalar list (${f.type}[]), which WatermelonDB cannot store`, 'use Json for the list, or mark the field /// @sync.ignore');
      continue;
    }
    if (access === 'media' && kind !== 'String')
      err(at(f.name, true), 'sync/media-type', `${model.name}.${f.name} is @sync.media but has type ${f.type}`, 'declare media fields as `String?` (they hold the uploaded file\'s URL)');
    if (access === 'ignore' && f.isRequired && !f.hasDefaultValue && !f.isUpdatedAt)
      err(at(f.name, true), 'sync/ignored-required', `${model.name}.${f.name} is @sync.ignore but required with no default, so a device could never create a ${model.name}`, 'make it optional (`?`) or give it a @default');
    const column = snakeCase(f.name);
    if (role === 'data' && access !== 'ignore' && RESERVED_COLUMNS.includes(column))
      err(at(f.name), 'sync/reserved-name', `${model.name}.${f.name} maps to the device column "${column}", which the sync runtime owns`, 'rename the field');
    const relation = fkTargets.get(f.name);
    const literal = typeof f.default === 'string' || typeof f.default === 'number' || typeof f.default === 'boolean' ? f.default : undefined;
    fields.push({
      name: f.name,
      column,
      kind,
      ...(f.kind === 'enum' ? { enumName: f.type } : {}),
      optional: !f.isRequired,
      hasDefault: f.hasDefaultValue || f.isUpdatedAt,
      ...(literal !== undefined ? { defaultValue: literal } : {}),
      role,
      access,
      ...(relation ? { relation } : {}),
      location: fpos ? { file, line: fpos.line, col: fpos.col } : modelLoc,
    });
  }

  if (diagnostics.length > before) return undefined;
  const dataFields = fields.filter((f) => f.role === 'data' && f.access !== 'ignore');
  const parents = [...new Set(dataFields.filter((f) => f.relation).map((f) => f.relation!.entity))].sort();
  const camel = camelCase(model.name);
  const description = descriptionOf(pos.docs);
  return {
    name: model.name,
    camel,
    kebab: kebabCase(model.name),
    table: pluralize(snakeCase(model.name)),
    plural: pluralize(camel),
    tenantField: tenant,
    conflict,
    fields,
    dataFields,
    parents,
    tombstone,
    location: modelLoc,
    ...(description ? { description } : {}),
  };
}

function roleOf(name: string, tenant: string | null): FieldRole {
  switch (name) {
    case 'id':
    case 'clientId':
    case 'version':
    case 'updatedAt':
    case 'deletedAt':
    case 'createdAt':
      return name;
    default:
      return name === tenant ? 'tenant' : 'data';
  }
}

function kindOf(f: DmmfField): ScalarKind | undefined {
  if (f.kind === 'enum') return 'Enum';
  if (f.kind !== 'scalar') return undefined;
  return SUPPORTED_SCALARS[f.type];
}

function unsupportedFix(f: DmmfField): string {
  switch (f.type) {
    case 'Decimal':
      return 'store money as Int minor units (cents) or as a String, or mark the field /// @sync.ignore';
    case 'BigInt':
      return 'use Int if values fit in 53 bits, or String, or mark the field /// @sync.ignore';
    case 'Bytes':
      return 'store the bytes as a file with /// @sync.media, or mark the field /// @sync.ignore';
    default:
      return 'use a supported type (String, Int, Float, Boolean, DateTime, Json, enum) or mark the field /// @sync.ignore';
  }
}


