/**
 * `fix-schema`: add what a @sync model is missing by the data conventions
 * (convention fields, the unique (tenant, clientId), the pull index) and the
 * server's `TrackhubSyncClock` model (runtime/server/sync-clock.ts), editing the
 * schema with prisma-ast and formatting it with Prisma's own formatter.
 *
 * Only additions: a field that exists with the wrong shape is left for the user
 * (the validator says how to change it).
 */
import { createPrismaSchemaBuilder } from '@mrleebo/prisma-ast';

import { clientUniqueKey, hasClientUnique, hasPullIndex, pullIndexPrefix } from '../model/conventions.js';
import { SYNC_CLOCK_MODEL, SYNC_CLOCK_PRISMA } from '../runtime/server/sync-clock.js';
import { parseModelAnnotation } from './annotations.js';
import { SchemaError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { prismaSchemaWasm } from './prisma-wasm.js';
import { parseSchemaText } from './read.js';

export interface ModelFix {
  model: string;
  /** Human-readable additions, e.g. `version Int @default(1)`. */
  added: string[];
}

export interface FixResult {
  text: string;
  fixes: ModelFix[];
}

type Builder = ReturnType<typeof createPrismaSchemaBuilder>;
type ModelBuilder = ReturnType<Builder['model']>;

interface FieldSpec {
  name: string;
  type: string;
  attributes: [string, string[]?][];
}

function conventionFields(tenant: string | null): FieldSpec[] {
  return [
    { name: 'id', type: 'String', attributes: [['id'], ['default', ['uuid()']]] },
    { name: 'clientId', type: 'String?', attributes: [] },
    { name: 'version', type: 'Int', attributes: [['default', ['1']]] },
    { name: 'updatedAt', type: 'DateTime', attributes: [['updatedAt']] },
    { name: 'deletedAt', type: 'DateTime?', attributes: [] },
    ...(tenant ? [{ name: tenant, type: 'String', attributes: [] } as FieldSpec] : []),
  ];
}

function describe(spec: FieldSpec): string {
  const attrs = spec.attributes.map(([name, args]) => `@${name}${args ? `(${args.join(', ')})` : ''}`);
  return [spec.name, spec.type, ...attrs].join(' ');
}

function addField(model: ModelBuilder, spec: FieldSpec): void {
  let chain = model.field(spec.name, spec.type);
  for (const [name, args] of spec.attributes) {
    const parsed = args?.map((a) => (a.endsWith('()') ? { type: 'function' as const, name: a.slice(0, -2), params: [] } : a));
    chain = parsed ? chain.attribute(name, parsed as never) : chain.attribute(name);
  }
}

/** Fix the schema text; `only` limits the fix to one model. */
export function fixSchemaText(text: string, file: string, only?: string): FixResult {
  const schema = parseSchemaText(text, file);
  const diagnostics: Diagnostic[] = [];
  const targets: { name: string; tenant: string | null }[] = [];
  for (const model of schema.datamodel.models) {
    const pos = schema.positions.models.get(model.name);
    if (!pos) continue;
    const annotation = parseModelAnnotation(file, model.name, pos.docs, diagnostics);
    if (!annotation || (only && model.name !== only)) continue;
    const tenant = annotation.tenant ?? 'tenantId';
    targets.push({ name: model.name, tenant: tenant === 'none' ? null : tenant });
  }
  if (diagnostics.length) throw new SchemaError(sortDiagnostics(diagnostics));

  const builder = createPrismaSchemaBuilder(text);
  const fixes: ModelFix[] = [];
  for (const { name, tenant } of targets) {
    const model = schema.datamodel.models.find((m) => m.name === name)!;
    const has = new Set(model.fields.map((f) => f.name));
    const added: string[] = [];
    const mb = builder.model(name);
    for (const spec of conventionFields(tenant)) {
      if (has.has(spec.name) || (spec.name === 'deletedAt' && has.has('isDeleted'))) continue;
      // Another field is the @id: swapping keys is the user's call, not an addition.
      if (spec.name === 'id' && model.fields.some((f) => f.isId)) continue;
      addField(mb, spec);
      added.push(describe(spec));
    }
    const uniqueKey = clientUniqueKey(tenant);
    if (!hasClientUnique(model, tenant)) {
      mb.blockAttribute('unique', uniqueKey);
      added.push(`@@unique([${uniqueKey.join(', ')}])`);
    }
    const pull = pullIndexPrefix(tenant);
    if (!hasPullIndex(schema.datamodel, model, tenant)) {
      const keys = has.has('id') || added.some((a) => a.startsWith('id ')) ? [...pull, 'id'] : pull;
      mb.blockAttribute('index', keys);
      added.push(`@@index([${keys.join(', ')}])`);
    }
    if (added.length) fixes.push({ model: name, added });
  }
  // The server's pull order (one row per entity and tenant), shared by every replica.
  const needsClock = targets.length > 0 && !schema.datamodel.models.some((m) => m.name === SYNC_CLOCK_MODEL);
  if (needsClock) fixes.push({ model: SYNC_CLOCK_MODEL, added: [`model ${SYNC_CLOCK_MODEL} (the pull order every server replica shares)`] });
  if (fixes.length === 0) return { text, fixes };

  // prisma-ast's printer separates a `///` doc comment from its model with a blank
  // line, which would detach the annotation: put them back together, then let
  // Prisma's formatter align everything.
  const source = builder.print().replace(/\n*$/, '\n') + (needsClock ? `\n${SYNC_CLOCK_PRISMA}` : '');
  const printed = source.replace(/^(\s*\/\/\/[^\n]*\n)\n+(?=(model|enum|view|type)\s)/gm, '$1');
  const formatted = prismaSchemaWasm().format(
    printed,
    JSON.stringify({ textDocument: { uri: 'file:/schema.prisma' }, options: { tabSize: 2, insertSpaces: true } }),
  );
  return { text: formatted.replace(/^\n+/, ''), fixes };
}
