/**
 * `fix-schema`: add what a @sync model is missing by the data conventions
 * (convention fields, the unique (tenant, clientId), the pull index) and the
 * server's `TrackhubSyncClock` model (runtime/sync-clock-model.ts).
 *
 * Only additions, as new lines inside the model (aligned with its fields); every
 * other byte of every file stays as it was. A field that exists with the wrong
 * shape is left for the user (the validator says how to change it). Additions
 * suit tables that already have rows: `updatedAt` gets `@default(now())`, and a
 * new required tenant field comes with the SQL that backfills it.
 */
import { clientUniqueKey, hasClientUnique, hasPullIndex, pullIndexPrefix, SELF_TENANT } from './conventions.js';
import { SCOPE_MOVE_MODEL, SCOPE_MOVE_PRISMA, SYNC_CLOCK_MODEL, SYNC_CLOCK_PRISMA } from '../runtime/sync-clock-model.js';
import { parseModelAnnotation } from './annotations.js';
import { SchemaError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { ModelPos } from './locate.js';
import { parseSchemaFiles, type ReadSchema, type SchemaFile } from './read.js';

export interface ModelFix {
  model: string;
  /** The file the model is in. */
  file: string;
  /** Human-readable additions, e.g. `version Int @default(1)`. */
  added: string[];
  /** SQL to run in the migration before the column becomes required (rows that already exist). */
  backfill?: string;
}

export interface FixResult {
  /** Every file, with its new text (unchanged files keep theirs). */
  files: SchemaFile[];
  fixes: ModelFix[];
}

interface FieldSpec {
  name: string;
  type: string;
  attributes: string;
}

function conventionFields(tenant: string | null, tenantType: string): FieldSpec[] {
  return [
    { name: 'id', type: 'String', attributes: '@id @default(uuid())' },
    { name: 'clientId', type: 'String?', attributes: '' },
    { name: 'version', type: 'Int', attributes: '@default(1)' },
    // The default fills rows that exist when the column is added.
    { name: 'updatedAt', type: 'DateTime', attributes: '@default(now()) @updatedAt' },
    { name: 'deletedAt', type: 'DateTime?', attributes: '' },
    ...(tenant && tenant !== SELF_TENANT ? [{ name: tenant, type: tenantType, attributes: '' }] : []),
  ];
}

const describe = (spec: FieldSpec): string => [spec.name, spec.type, spec.attributes].filter(Boolean).join(' ');

/** Columns of a model's field lines: where the type and the attributes start (0-based, in the line). */
function alignment(lines: string[], pos: ModelPos): { indent: string; typeAt: number; attrAt: number } {
  const typeCols: number[] = [];
  const attrCols: number[] = [];
  let indent = '  ';
  for (const f of pos.fields.values()) {
    const line = lines[f.line - 1];
    indent = line.slice(0, f.col - 1);
    typeCols.push(f.typeCol - 1);
    const m = /^(\S+)(\s+)@/.exec(line.slice(f.typeCol - 1));
    if (m) attrCols.push(f.typeCol - 1 + m[1].length + m[2].length);
  }
  const most = (xs: number[], fallback: number) => {
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? fallback;
  };
  const typeAt = most(typeCols, indent.length + 10);
  return { indent, typeAt, attrAt: most(attrCols, typeAt + 10) };
}

function fieldLine(spec: FieldSpec, a: { indent: string; typeAt: number; attrAt: number }): string {
  let line = a.indent + spec.name;
  line += ' '.repeat(Math.max(1, a.typeAt - line.length)) + spec.type;
  if (spec.attributes) line += ' '.repeat(Math.max(1, a.attrAt - line.length)) + spec.attributes;
  return line;
}

/** SQL that fills a new required tenant column of a table that has rows (PostgreSQL). */
function backfillSql(table: string, column: string, type: string): string {
  const sqlType = type === 'Int' ? 'INTEGER' : 'TEXT';
  const value = type === 'Int' ? '<tenant id of these rows>' : "'<tenant id of these rows>'";
  return [
    `-- create the migration with \`prisma migrate dev --create-only\`, then replace its`,
    `-- ALTER TABLE "${table}" ADD COLUMN "${column}" ${sqlType} NOT NULL;  with:`,
    `ALTER TABLE "${table}" ADD COLUMN "${column}" ${sqlType};`,
    `UPDATE "${table}" SET "${column}" = ${value} WHERE "${column}" IS NULL;`,
    `ALTER TABLE "${table}" ALTER COLUMN "${column}" SET NOT NULL;`,
  ].join('\n');
}

/** The type of a new tenant field: the one other models give a field of that name (an Int team id), else String. */
function tenantTypeOf(schema: ReadSchema, tenant: string | null): string {
  if (!tenant) return 'String';
  const other = schema.datamodel.models.flatMap((m) => m.fields).find((f) => f.name === tenant && f.kind === 'scalar');
  return other?.type === 'Int' ? 'Int' : 'String';
}

/** Fix the schema's files; `only` limits the fix to one model. */
export function fixSchema(schema: ReadSchema, only?: string): FixResult {
  const diagnostics: Diagnostic[] = [];
  const targets: { name: string; tenant: string | null; pos: ModelPos }[] = [];
  for (const model of schema.datamodel.models) {
    const pos = schema.positions.models.get(model.name);
    if (!pos || pos.kind !== 'model') continue;
    const annotation = parseModelAnnotation(pos.file, model.name, pos.docs, diagnostics);
    if (!annotation || (only && model.name !== only)) continue;
    const tenant = annotation.tenant ?? 'tenantId';
    targets.push({ name: model.name, tenant: tenant === 'none' ? null : tenant, pos });
  }
  if (diagnostics.length) throw new SchemaError(sortDiagnostics(diagnostics));

  const fixes: ModelFix[] = [];
  const texts = new Map(schema.files.map((f) => [f.file, f.text]));
  // Bottom-up within each file, so earlier line numbers stay valid.
  for (const { name, tenant, pos } of [...targets].sort((a, b) => b.pos.line - a.pos.line)) {
    const model = schema.datamodel.models.find((m) => m.name === name)!;
    const has = new Set(model.fields.map((f) => f.name));
    const added: string[] = [];
    const text = texts.get(pos.file)!;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split(/\r?\n/);
    const a = alignment(lines, pos);
    const fieldLines: string[] = [];
    let backfill: string | undefined;
    const tenantType = tenantTypeOf(schema, tenant);
    for (const spec of conventionFields(tenant, tenantType)) {
      if (has.has(spec.name) || (spec.name === 'deletedAt' && has.has('isDeleted'))) continue;
      // Another field is the @id: swapping keys is the user's call, not an addition.
      if (spec.name === 'id' && (model.fields.some((f) => f.isId) || model.primaryKey)) continue;
      fieldLines.push(fieldLine(spec, a));
      added.push(describe(spec));
      if (spec.name === tenant) backfill = backfillSql(model.dbName ?? name, tenant, tenantType);
    }
    const attrLines: string[] = [];
    const uniqueKey = clientUniqueKey(tenant);
    if (!hasClientUnique(model, tenant)) {
      attrLines.push(`${a.indent}@@unique([${uniqueKey.join(', ')}])`);
      added.push(`@@unique([${uniqueKey.join(', ')}])`);
    }
    if (!hasPullIndex(schema.datamodel, model, tenant)) {
      const pull = pullIndexPrefix(tenant);
      const keys = has.has('id') || added.some((x) => x.startsWith('id ')) ? [...pull, 'id'] : pull;
      attrLines.push(`${a.indent}@@index([${keys.join(', ')}])`);
      added.push(`@@index([${keys.join(', ')}])`);
    }
    if (!added.length) continue;
    // Fields go after the last field line, block attributes before the closing brace.
    const lastField = Math.max(pos.line, ...[...pos.fields.values()].map((f) => f.line));
    const close = pos.endLine - 1; // 0-based index of the `}` line
    const hasBlockAttrs = pos.blockAttributes.length > 0;
    const out = [...lines];
    if (attrLines.length) out.splice(close, 0, ...(hasBlockAttrs ? attrLines : ['', ...attrLines]));
    if (fieldLines.length) out.splice(lastField, 0, ...fieldLines);
    texts.set(pos.file, out.join(eol));
    fixes.push({ model: name, file: pos.file, added, ...(backfill ? { backfill } : {}) });
  }
  // The server's pull order (one row per entity and tenant), shared by every replica:
  // added once, at the end of the file of the first synced model.
  if (targets.length > 0 && !schema.datamodel.models.some((m) => m.name === SYNC_CLOCK_MODEL)) {
    const order = (file: string): number => schema.files.findIndex((f) => f.file === file);
    const file = [...targets].sort((a, b) => order(a.pos.file) - order(b.pos.file) || a.pos.line - b.pos.line)[0]!.pos.file;
    const text = texts.get(file)!;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    texts.set(file, `${text.replace(/(\r?\n)*$/, '')}${eol}${eol}${SYNC_CLOCK_PRISMA.replace(/\n/g, eol)}`);
    fixes.push({ model: SYNC_CLOCK_MODEL, file, added: [`model ${SYNC_CLOCK_MODEL} (the pull order every server replica shares)`] });
  }
  // Partial sync: the log of records leaving a scope, once any model declares a scope.
  const scoped = targets.filter((t) => parseModelAnnotation(t.pos.file, t.name, t.pos.docs, [])?.scope);
  if (scoped.length > 0 && !schema.datamodel.models.some((m) => m.name === SCOPE_MOVE_MODEL)) {
    const order = (file: string): number => schema.files.findIndex((f) => f.file === file);
    const file = [...scoped].sort((a, b) => order(a.pos.file) - order(b.pos.file) || a.pos.line - b.pos.line)[0]!.pos.file;
    const text = texts.get(file)!;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    texts.set(file, `${text.replace(/(\r?\n)*$/, '')}${eol}${eol}${SCOPE_MOVE_PRISMA.replace(/\n/g, eol)}`);
    fixes.push({ model: SCOPE_MOVE_MODEL, file, added: [`model ${SCOPE_MOVE_MODEL} (records that left a sync scope, pulled as removals)`] });
  }
  fixes.sort((x, y) => x.file.localeCompare(y.file) || x.model.localeCompare(y.model));
  return { files: schema.files.map((f) => ({ ...f, text: texts.get(f.file)! })), fixes };
}

/** Fix one schema text (a single-file schema); `only` limits the fix to one model. */
export function fixSchemaText(text: string, file: string, only?: string): { text: string; fixes: ModelFix[] } {
  const { files, fixes } = fixSchema(parseSchemaFiles([{ file, text }], file), only);
  return { text: files[0].text, fixes };
}
