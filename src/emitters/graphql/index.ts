/**
 * GraphQL emitter: the SDL the generated server serves, sorted the way NestJS
 * prints it with `sortSchema: true`, so clients and codegen can use it offline.
 */
import { requiredOnCreate, updatable } from '../../model/artifacts.js';
import type { FieldIR, ProjectIR } from '../../model/types.js';
import { PRINT_WIDTH } from '../layout.js';
import { renderTemplate } from '../render.js';
import { sortSdl } from './sdl-order.js';
import type { Emitter } from '../types.js';

const GQL_SCALAR: Record<FieldIR['kind'], string> = {
  String: 'String',
  Int: 'Int',
  Float: 'Float',
  Boolean: 'Boolean',
  DateTime: 'DateTime',
  Json: 'JSON',
  Enum: '',
};

function gqlType(f: FieldIR, required: boolean): string {
  const base = f.kind === 'Enum' ? f.enumName! : GQL_SCALAR[f.kind];
  return required ? `${base}!` : base;
}

/** A field whose arguments do not fit in 100 columns, one argument per line (prettier's graphql layout). */
function breakArguments(line: string): string {
  if (line.length <= PRINT_WIDTH) return line;
  const m = /^(\s*)(\w+)\((.*)\): (\S+)$/.exec(line);
  if (!m) return line;
  const [, indent, field, args, type] = m;
  return `${indent}${field}(\n${args!.split(', ').map((a) => `${indent}  ${a}`).join('\n')}\n${indent}): ${type}`;
}

/** The SDL as the template writes it, before it is put in canonical order. */
export function rawSdl(project: ProjectIR): string {
  const entities = project.entities.map((e) => ({
    name: e.typeName,
    opName: e.name,
    camel: e.camel,
    plural: e.plural,
    updatedAtType: e.updatedAtOptional ? 'DateTime' : 'DateTime!',
    outputFields: e.dataFields.map((f) => ({ name: f.name, type: gqlType(f, !f.optional) })),
    createFields: e.dataFields.map((f) => ({ name: f.name, type: gqlType(f, requiredOnCreate(f)) })),
    updateFields: e.dataFields.filter(updatable).map((f) => ({ name: f.name, type: gqlType(f, false) })),
  }));
  return renderTemplate('graphql/schema.graphql.hbs', { entities, enums: project.enums });
}

export const emitGraphql: Emitter = (project) => {
  // Canonical, sorted form, as graphql-js prints it (sdl-order.ts); test/emitters/graphql.test.ts
  // validates the result with graphql-js and compares it with graphql-js's own printing.
  const sdl = sortSdl(rawSdl(project));
  return [{ path: 'graphql/schema.graphql', content: `${sdl.split('\n').map(breakArguments).join('\n')}\n`, owner: 'generator', formatted: true }];
};
