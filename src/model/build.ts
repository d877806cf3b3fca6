/**
 * Schema -> the intermediate model. Every convention rule of PRODUCT.md is
 * checked here; all problems of a run are collected and thrown together.
 */
import path from 'node:path';

import { RUNTIME_TABLES, SYNC_COLUMNS, WATERMELON_COLUMNS } from '../contract/columns.js';
import { defaultOnDelete, type OnDeleteAction } from '../contract/fields.js';
import { parseFieldAnnotations, parseModelAnnotation, descriptionOf } from '../schema/annotations.js';
import { SchemaError, sortDiagnostics, type Diagnostic } from '../schema/diagnostics.js';
import type { ModelPos } from '../schema/locate.js';
import type { DmmfField, DmmfModel } from '../schema/prisma-wasm.js';
import { readSchema, parseSchemaText, type ReadSchema } from '../schema/read.js';
import { clientUniqueKey, hasClientUnique, hasPullIndex, pullIndexPrefix, SELF_TENANT } from '../schema/conventions.js';
import { resolveScopes, type DeclaredScope } from './scopes.js';
import { camelCase, kebabCase, pluralize, prismaDelegate, snakeCase, typeNameOf } from './naming.js';
import { insertDefaultsOf, isFunctionDefault } from './insert-defaults.js';
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
  const models = schema.datamodel.models;
  const synced = new Map<string, { model: DmmfModel; pos: ModelPos; tenant?: string; conflict?: EntityIR['conflict'] }>();
  const scopes = new Map<string, DeclaredScope>();

  for (const model of models) {
    const pos = schema.positions.models.get(model.name);
    if (!pos) continue;
    const file = pos.file;
    const annotation = parseModelAnnotation(file, model.name, pos.docs, diagnostics);
    if (pos.kind === 'view') {
      // A view has no table to write to: an annotation on one would otherwise mean nothing.
      if (annotation)
        diagnostics.push({
          location: { file, line: annotation.line.line, col: annotation.line.textCol },
          rule: 'sync/view',
          message: `view ${model.name} is annotated with @sync, but a view cannot be written to, so devices could never push to it`,
          fix: `remove the @sync line from view ${model.name} and annotate the model(s) it reads from instead`,
        });
      continue;
    }
    if (annotation) {
      synced.set(model.name, { model, pos, tenant: annotation.tenant, conflict: annotation.conflict });
      if (annotation.scope) scopes.set(model.name, { path: annotation.scope.path, location: { file, ...annotation.scope.location } });
    } else {
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

  // The tenant model (the target of a tenant field's relation) as a global entity would send every tenant to every tenant.
  const globalTenantModels = new Set<string>();
  for (const { model, tenant } of synced.values()) {
    const t = tenant ?? 'tenantId';
    const toTenant = model.fields.find((f) => f.kind === 'object' && f.relationFromFields?.length === 1 && f.relationFromFields[0] === t);
    const target = toTenant ? synced.get(toTenant.type) : undefined;
    if (!target || target.tenant !== 'none' || !toTenant || globalTenantModels.has(toTenant.type)) continue;
    globalTenantModels.add(toTenant.type);
    const line = parseModelAnnotation(target.pos.file, target.model.name, target.pos.docs, [])!.line;
    diagnostics.push({
      location: { file: target.pos.file, line: line.line, col: line.textCol },
      rule: 'sync/tenant-model-global',
      message: `${target.model.name} is the tenant of ${model.name} (${model.name}.${t}), so tenant: "none" would send every ${target.model.name} to every tenant`,
      fix: `use @sync(tenant: "id"): ${target.model.name} is its own tenant, so each tenant receives only its own row`,
    });
  }

  const entities: EntityIR[] = [];
  for (const { model, pos, tenant, conflict } of synced.values()) {
    const entity = buildEntity(schema, model, pos, tenant ?? 'tenantId', conflict ?? 'timestamp', synced, diagnostics);
    if (entity) entities.push(entity);
  }

  resolveScopes(entities, scopes, models, diagnostics);

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
    .map((en) => ({ name: en.name, values: en.values.map((v) => v.name), ...(en.values.some((v) => v.dbName && v.dbName !== v.name) ? { mapped: true as const } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));

  const warnings = sortDiagnostics(ordered.flatMap((e) => uniqueWarnings(e, synced.get(e.name)!.pos, synced.get(e.name)!.model)));
  return { schemaPath: schema.file.split(path.sep).join('/'), provider: schema.provider, entities: ordered, enums, ...(warnings.length ? { warnings } : {}) };
}

/**
 * The rule for a model's own unique keys on a soft-deleted entity: tombstones stay
 * in the table and keep their values, so a new record cannot take the values of a
 * deleted one (the push gets UNIQUE_VIOLATION). Said at generate time.
 */
function uniqueWarnings(e: EntityIR, pos: ModelPos, model: DmmfModel): Diagnostic[] {
  const column = (name: string) => model.fields.find((f) => f.name === name)?.dbName ?? name;
  return e.uniques.map((key) => {
    const block = pos.blockAttributes.find((b) => b.text.startsWith('@@unique') && key.every((k) => new RegExp(`\\b${k}\\b`).test(b.text)));
    const field = key.length === 1 ? pos.fields.get(key[0]) : undefined;
    const at = block ?? field ?? pos;
    const cols = key.map((k) => `"${column(k)}"`).join(', ');
    const table = model.dbName ?? e.name;
    const tomb = column(e.fields.find((f) => f.role === 'deletedAt')?.name ?? 'deletedAt');
    return {
      location: { file: pos.file, line: at.line, col: at.col },
      rule: 'sync/unique-keeps-deleted',
      message: `unique (${key.join(', ')}) of ${e.name} also holds for soft-deleted records: a deleted ${e.name} keeps its values, so a new one cannot reuse them (the push gets UNIQUE_VIOLATION)`,
      fix: `if values must be reusable after a delete, replace the unique with a partial index in your migration: CREATE UNIQUE INDEX ON "${table}" (${cols}) WHERE "${tomb}" IS NULL`,
    };
  });
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
  const file = pos.file;
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
  if (!id) err(modelLoc, 'sync/missing-id', `model ${model.name} has no "id" field`, `add \`id String @id @default(uuid())\` (or run \`trackhub-gen fix-schema ${model.name}\`)`);
  else if (id.type === 'Int' && id.isId && !isFunctionDefault(id.default, 'autoincrement'))
    err(at('id', true), 'sync/int-id-default', `${model.name}.id is an Int id without a database default; the server cannot number the records devices create`, 'declare it as `id Int @id @default(autoincrement())`');
  else if ((id.type !== 'String' && id.type !== 'Int') || !id.isId)
    err(at('id', true), 'sync/id-shape', `${model.name}.id must be the @id, a String (\`@default(uuid())\`, \`@default(cuid())\` or no default) or an \`Int @default(autoincrement())\`${id.type === 'BigInt' ? '; BigInt ids are not synced' : ''}`, id.type === 'BigInt' ? 'declare it as `id Int @id @default(autoincrement())` if the values fit in 32 bits, or give the model a String id and keep the BigInt key as a unique: `id String @id @default(cuid())` and `legacyId BigInt @unique`' : 'declare it as `id String @id @default(uuid())`');
  if (model.primaryKey)
    err(modelLoc, 'sync/composite-id', `model ${model.name} has a composite @@id; sync needs one String id`, 'replace @@id with `id String @id @default(uuid())` and a @@unique over the old key');
  const clientId = byName.get('clientId');
  if (!clientId) err(modelLoc, 'sync/missing-client-id', `model ${model.name} has no "clientId" field`, `add \`clientId String?\` (the UUID v7 minted on the device), or run \`trackhub-gen fix-schema ${model.name}\``);
  else if (clientId.type !== 'String' || clientId.isList)
    err(at('clientId', true), 'sync/client-id-shape', `${model.name}.clientId must be \`String?\``, 'declare it as `clientId String?`');
  const version = byName.get('version');
  if (!version) err(modelLoc, 'sync/missing-version', `model ${model.name} has no "version" field`, `add \`version Int @default(1)\`, or run \`trackhub-gen fix-schema ${model.name}\``);
  else if (version.type !== 'Int' || !version.isRequired || version.default !== 1)
    err(at('version', true), 'sync/version-shape', `${model.name}.version must be \`Int @default(1)\``, 'declare it as `version Int @default(1)`');
  const updatedAt = byName.get('updatedAt');
  if (!updatedAt) err(modelLoc, 'sync/missing-updated-at', `model ${model.name} has no "updatedAt" field`, `add \`updatedAt DateTime @default(now()) @updatedAt\` (the default fills existing rows), or run \`trackhub-gen fix-schema ${model.name}\``);
  else if (updatedAt.type !== 'DateTime' || !updatedAt.isUpdatedAt || updatedAt.isList)
    err(
      at('updatedAt', true),
      'sync/updated-at-shape',
      `${model.name}.updatedAt must be a \`DateTime @updatedAt\``,
      'declare it as `updatedAt DateTime @default(now()) @updatedAt` (the default fills existing rows)',
    );
  const deletedAt = byName.get('deletedAt');
  const isDeleted = byName.get('isDeleted');
  const tombstone: EntityIR['tombstone'] = 'deletedAt';
  if (deletedAt) {
    if (deletedAt.type !== 'DateTime' || deletedAt.isRequired)
      err(at('deletedAt', true), 'sync/deleted-at-shape', `${model.name}.deletedAt must be \`DateTime?\``, 'declare it as `deletedAt DateTime?`');
  } else if (isDeleted && isDeleted.type === 'Boolean') {
    err(at('isDeleted'), 'sync/is-deleted-unsupported', `${model.name} uses \`isDeleted Boolean\`; this version of trackhub-gen needs the \`deletedAt DateTime?\` tombstone`, 'replace isDeleted with `deletedAt DateTime?`');
  } else err(modelLoc, 'sync/missing-deleted-at', `model ${model.name} has no "deletedAt" field (the soft-delete tombstone)`, `add \`deletedAt DateTime?\`, or run \`trackhub-gen fix-schema ${model.name}\``);

  let tenantKind: EntityIR['tenantKind'] = 'String';
  if (tenant === SELF_TENANT) {
    // A model that is its own tenant (a Team scoped to itself): its id is the tenant.
    if (id && id.type !== 'String') err(at('id', true), 'sync/self-tenant-id', `${model.name} is its own tenant (tenant: "id"), so its id must be the tenant id of the token, a String`, 'declare it as `id String @id` (a String id, as the tenant ids in your tokens)');
  } else if (tenant) {
    const t = byName.get(tenant);
    if (!t)
      err(modelLoc, 'sync/missing-tenant', `model ${model.name} has no tenant field "${tenant}"`, tenantField === 'tenantId' ? `add \`tenantId String\` (or run \`trackhub-gen fix-schema ${model.name}\`), or name another field with @sync(tenant: "..."), or @sync(tenant: "none") for a global entity, or @sync(tenant: "id") for the tenant model itself` : `add \`${tenant} String\` (or run \`trackhub-gen fix-schema ${model.name}\`), or fix the tenant option`);
    else if ((t.type !== 'String' && t.type !== 'Int') || t.isList || t.kind !== 'scalar')
      err(at(tenant, true), 'sync/tenant-shape', `tenant field ${model.name}.${tenant} has type ${t.type}${t.isList ? '[]' : ''}; a tenant is a String or an Int`, `declare it as \`${tenant} String\` (or \`${tenant} Int\` when your tenant ids are integers)`);
    else tenantKind = t.type === 'Int' ? 'Int' : 'String';
  }
  // Keys over a missing field would only repeat the error above.
  const keysCheckable = Boolean(clientId && updatedAt && (!tenant || byName.get(tenant)));
  const uniqueKey = clientUniqueKey(tenant);
  if (keysCheckable && !hasClientUnique(model, tenant))
    err(
      { file, line: pos.endLine, col: 1 },
      'sync/missing-client-unique',
      `model ${model.name} needs a unique (${uniqueKey.join(', ')}) so that a retried push never duplicates`,
      `add \`@@unique([${uniqueKey.join(', ')}])\` before the closing brace, or run \`trackhub-gen fix-schema ${model.name}\``,
    );
  const pullIndex = pullIndexPrefix(tenant);
  if (keysCheckable && !hasPullIndex(schema.datamodel, model, tenant))
    err(
      { file, line: pos.endLine, col: 1 },
      'sync/missing-pull-index',
      `model ${model.name} needs an index serving the pull order (${[...pullIndex, 'id'].join(', ')})`,
      `add \`@@index([${[...pullIndex, 'id'].join(', ')}])\` before the closing brace, or run \`trackhub-gen fix-schema ${model.name}\``,
    );

  // --- relations -------------------------------------------------------
  const fkTargets = new Map<string, NonNullable<FieldIR['relation']>>();
  const references = new Map<string, NonNullable<FieldIR['reference']>>();
  /** Foreign keys of relations marked @sync.ignore: they stay on the server with the relation. */
  const ignoredKeys = new Set<string>();
  for (const f of model.fields) {
    if (f.kind !== 'object') continue;
    const fpos = pos.fields.get(f.name);
    const docs = fpos ? [...fpos.docsAbove, ...(fpos.doc ? [fpos.doc] : [])] : [];
    const from = f.relationFromFields ?? [];
    const annotation = parseFieldAnnotations(file, model.name, f.name, docs, diagnostics);
    if (annotation) {
      if (annotation.access === 'ignore') for (const k of from) ignoredKeys.add(k);
      else
        err({ file, line: annotation.doc.line, col: annotation.doc.textCol + annotation.offset }, 'sync/annotation-on-relation', `@sync.${annotation.access} on the relation field ${model.name}.${f.name} has no effect`, from.length ? `put it on the foreign key ${model.name}.${from[0]}, or use /// @sync.ignore on the relation to keep it server-only` : 'use /// @sync.ignore on the relation to keep it server-only, or remove the annotation');
      continue;
    }
    const target = schema.datamodel.models.find((m) => m.name === f.type);
    const opposite = target?.fields.find((o) => o.relationName === f.relationName && o !== f && o.type === model.name);
    if (f.isList && opposite?.isList) {
      const [first, second] = [model.name, f.type].sort();
      const join = first + second;
      const side = (m: string) => `${camelCase(m)}Id String  ${camelCase(m)} ${m} @relation(fields: [${camelCase(m)}Id], references: [id])`;
      err(
        at(f.name, true),
        'sync/implicit-many-to-many',
        `${model.name}.${f.name} is an implicit many-to-many relation with ${f.type}; its hidden join table cannot be synced`,
        `make the join an explicit model annotated with /// @sync: \`model ${join} { ${side(first)}  ${side(second)} }\` (\`trackhub-gen fix-schema ${join}\` then adds the convention fields), and list it here as \`${f.name} ${join}[]\` and on ${f.type} as \`${opposite.name} ${join}[]\`; or mark ${model.name}.${f.name} /// @sync.ignore to keep it server-only`,
      );
      continue;
    }
    // The other side holds the key (a back-relation list, or the other side of a 1:1): nothing to sync here.
    if (from.length === 0) continue;
    if (from.length > 1) {
      err(at(f.name, true), 'sync/composite-relation', `${model.name}.${f.name} uses a composite foreign key`, `relate through ${f.type}'s \`id\` with a single foreign key field, or mark ${model.name}.${f.name} /// @sync.ignore to keep it server-only`);
      continue;
    }
    const key = from[0];
    const references_ = (f.relationToFields ?? [])[0] ?? 'id';
    // A relation to the tenant model is the tenant scope itself (set from the token).
    if (key === tenant) continue;
    if (!synced.has(f.type)) {
      // A server-side value: no navigation on devices, checked on the server (in the caller's tenant when the target has one).
      const scoped = Boolean(tenant && tenant !== SELF_TENANT && target?.fields.some((t) => t.name === tenant && t.kind === 'scalar'));
      references.set(key, { model: f.type, delegate: prismaDelegate(f.type), key: references_, tenantField: scoped ? tenant : null });
      continue;
    }
    if (references_ !== 'id')
      err(
        at(f.name, true),
        'sync/relation-not-to-id',
        `${model.name}.${f.name} references ${f.type}.${references_}; devices know ${f.type} records by their id`,
        `relate through the id: add \`${f.name}Id String\` with \`@relation(fields: [${f.name}Id], references: [id])\` and fill it from ${f.type}.id (the ${references_} values in ${key} are not ids), or mark ${model.name}.${f.name} /// @sync.ignore`,
      );
    const targetId = target?.fields.find((t) => t.isId);
    const onDelete = onDeleteOf(f);
    if (onDelete === 'SetDefault')
      err(
        at(f.name, true),
        'sync/on-delete-set-default',
        `${model.name}.${f.name} uses onDelete: SetDefault; deletes of synced records are tombstones whose onDelete the sync server carries out, and it supports Cascade, SetNull and Restrict`,
        `use onDelete: SetNull (make ${key} optional), Cascade or Restrict, or mark ${model.name}.${f.name} /// @sync.ignore to keep it server-only`,
      );
    fkTargets.set(key, {
      entity: f.type,
      navigation: f.name,
      ...(targetId?.type === 'Int' ? { idKind: 'Int' as const } : {}),
      onDelete: onDelete === 'SetDefault' ? 'Restrict' : onDelete,
    });
  }

  const fields: FieldIR[] = [];
  for (const f of model.fields) {
    if (f.kind === 'object') continue;
    const fpos = pos.fields.get(f.name);
    const docs = fpos ? [...fpos.docsAbove, ...(fpos.doc ? [fpos.doc] : [])] : [];
    const annotation = parseFieldAnnotations(file, model.name, f.name, docs, diagnostics);
    const serverStamped = f.isUpdatedAt || (isFunctionDefault(f.default, 'now') && f.type === 'DateTime');
    let role = roleOf(f.name, tenant);
    // @updatedAt / @default(now()) under any name (updatedOn, createdOn, lastEdited): the server stamps it, devices never write it.
    if (role === 'data' && serverStamped && !annotation) role = 'createdAt';
    if (role !== 'data' && role !== 'createdAt' && annotation) {
      err({ file, line: annotation.doc.line, col: annotation.doc.textCol + annotation.offset }, 'sync/annotation-on-convention-field', `${model.name}.${f.name} is a convention field; @sync.${annotation.access} does not apply to it`, 'remove the annotation');
    }
    const access: SyncAccess = role === 'data' ? annotation?.access ?? (ignoredKeys.has(f.name) ? 'ignore' : 'synced') : 'synced';
    const kind = kindOf(f);
    if (!kind) {
      // (an id of another type has its own error above)
      if (access !== 'ignore' && role !== 'id')
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
      err(at(f.name, true), 'sync/ignored-required', `${model.name}.${f.name} is ${annotation ? '@sync.ignore' : 'the foreign key of a @sync.ignore relation'} but required with no default, so a device could never create a ${model.name}`, 'make it optional (`?`) or give it a @default');
    if (f.name === 'constructor' && access !== 'ignore')
      err(at(f.name), 'sync/field-name', `${model.name}.constructor cannot be a property of a generated class (JavaScript reserves it)`, `rename the field and keep its column: \`${f.name}Value ${f.type}${f.isRequired ? '' : '?'} @map("${f.dbName ?? f.name}")\`, or mark it /// @sync.ignore`);
    const column = snakeCase(f.name);
    if (role === 'data' && access !== 'ignore' && RESERVED_COLUMNS.includes(column))
      err(at(f.name), 'sync/reserved-name', `${model.name}.${f.name} maps to the device column "${column}", which the sync runtime owns`, 'rename the field');
    const relation = access === 'ignore' ? undefined : fkTargets.get(f.name);
    const reference = access === 'ignore' ? undefined : references.get(f.name);
    const native = f.nativeType ?? null;
    const maxLength = native && ['VarChar', 'Char'].includes(native[0]) && native[1][0] ? Number(native[1][0]) : undefined;
    const literal = typeof f.default === 'string' || typeof f.default === 'number' || typeof f.default === 'boolean' ? f.default : undefined;
    fields.push({
      name: f.name,
      column,
      dbName: f.dbName ?? f.name,
      ...(native ? { nativeType: native[0] } : {}),
      // A key to an Int id travels as an opaque string, like every server id (FieldIR.relation.idKind).
      kind: relation?.idKind === 'Int' ? 'String' : kind,
      ...(f.kind === 'enum' ? { enumName: f.type } : {}),
      optional: !f.isRequired,
      hasDefault: f.hasDefaultValue || f.isUpdatedAt,
      ...(literal !== undefined ? { defaultValue: literal } : {}),
      role,
      access,
      ...(relation ? { relation } : {}),
      ...(reference ? { reference } : {}),
      ...(maxLength !== undefined && Number.isSafeInteger(maxLength) ? { maxLength } : {}),
      ...(native?.[0] === 'Uuid' ? { format: 'uuid' as const } : {}),
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
    typeName: typeNameOf(model.name),
    camel,
    kebab: kebabCase(model.name),
    table: pluralize(snakeCase(model.name)),
    dbName: model.dbName ?? model.name,
    ...(model.schema ? { dbSchema: model.schema } : {}),
    plural: pluralize(camel),
    tenantField: tenant,
    tenantKind,
    serverMintsId: Boolean(id && id.type === 'String' && !id.hasDefaultValue),
    ...(id?.type === 'Int' ? { idKind: 'Int' as const } : {}),
    ...(updatedAt && !updatedAt.isRequired ? { updatedAtOptional: true } : {}),
    conflict,
    fields,
    insertDefaults: insertDefaultsOf(model, fields),
    dataFields,
    uniques: model.uniqueFields
      .concat(model.fields.filter((f) => f.isUnique).map((f) => [f.name]))
      .filter((u) => !u.includes('clientId') && !(u.length === 1 && u[0] === 'id')),
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
      return 'use Float where binary floating point is precise enough (coordinates, measurements), Int minor units or a String for exact amounts (money), or mark the field /// @sync.ignore';
    case 'BigInt':
      return 'use Int if values fit in 53 bits, or String, or mark the field /// @sync.ignore';
    case 'Bytes':
      return 'store the bytes as a file with /// @sync.media, or mark the field /// @sync.ignore';
    default:
      return 'use a supported type (String, Int, Float, Boolean, DateTime, Json, enum) or mark the field /// @sync.ignore';
  }
}

/**
 * The relation's `onDelete` as Prisma applies it: the schema's action, else Prisma's default
 * (`Restrict` for a required relation, `SetNull` for an optional one). `NoAction` behaves like
 * `Restrict` here (nothing is deferred: the check runs when the delete is applied).
 */
function onDeleteOf(f: { relationOnDelete?: string; isRequired: boolean }): OnDeleteAction | 'SetDefault' {
  switch (f.relationOnDelete) {
    case 'Cascade':
    case 'SetNull':
    case 'Restrict':
    case 'SetDefault':
      return f.relationOnDelete;
    case 'NoAction':
      return 'Restrict';
    default:
      return defaultOnDelete(!f.isRequired);
  }
}
