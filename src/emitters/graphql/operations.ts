/**
 * Typed online operations: `graphql/operations.graphql` holds, per entity, the
 * documents of the online API the client uses (Get<Entity>, List<Entities>,
 * Create<Entity>), and `client/generated/operations.ts` their
 * `TypedDocumentNode`s any GraphQL client takes (Apollo, urql, graphql-request),
 * with their result and variable types. The client emitter writes the same documents
 * as compact text (`operation-sources.ts`, see operationSourcesFile) for the runtime's
 * own transport, which has no GraphQL parser.
 *
 * operations.ts is what GraphQL Code Generator (typescript-operations +
 * typed-document-node, scalars DateTime: string, JSON: unknown, ID: string,
 * useTypeImports) prints for these documents, formatted by prettier: the three
 * documents of an entity have one fixed shape, so this module prints that output
 * itself, in its final format (emitters/layout.ts), from the model. Running the
 * generator and prettier on it took most of a cold `generate` (about 3 s of CPU for
 * 100 models). test/emitters/typed-operations.test.ts runs the real GraphQL Code
 * Generator and prettier on the same documents and expects the same bytes.
 */
import { artifactsOf, requiredOnCreate } from '../../model/artifacts.js';
import type { EntityIR, FieldIR, ProjectIR } from '../../model/types.js';
import { PRINT_WIDTH, printLiteral, printProperty } from '../layout.js';
import type { Emitter } from '../types.js';
import { naturalCompare } from './sdl-order.js';

export const OPERATIONS_GRAPHQL_PATH = 'graphql/operations.graphql';
export const OPERATIONS_TS_PATH = 'client/generated/operations.ts';


/** The fields every operation selects: server metadata and every synced field (what the runtime stores). */
function selectionOf(entity: EntityIR): { name: string; type: string }[] {
  const meta = [
    { name: 'id', type: 'string' },
    { name: 'clientId', type: 'string | null' },
    { name: 'version', type: 'number' },
    { name: 'updatedAt', type: entity.updatedAtOptional ? 'string | null' : 'string' },
    { name: 'deletedAt', type: 'string | null' },
  ];
  return [...meta, ...entity.dataFields.map((f) => ({ name: f.name, type: resultType(f) }))];
}

const TS_SCALAR: Record<Exclude<FieldIR['kind'], 'Enum'>, string> = {
  String: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  DateTime: 'string',
  Json: 'unknown',
};
const tsBase = (f: FieldIR): string => (f.kind === 'Enum' ? f.enumName! : TS_SCALAR[f.kind]);
/** `unknown` takes no `| null` in Code Generator's output. */
const resultType = (f: FieldIR): string => (f.kind === 'Json' || !f.optional ? tsBase(f) : `${tsBase(f)} | null`);

/** GraphQL type names of a field (the SDL's, see graphql/index.ts). */
const GQL_SCALAR: Record<Exclude<FieldIR['kind'], 'Enum'>, string> = {
  String: 'String',
  Int: 'Int',
  Float: 'Float',
  Boolean: 'Boolean',
  DateTime: 'DateTime',
  Json: 'JSON',
};

interface Operation {
  name: string;
  kind: 'query' | 'mutation';
  field: string;
  /** Variables: name, GraphQL type, TypeScript type, required. */
  variables: { name: string; gql: string; ts: string; required: boolean }[];
  /** The selection under the field: the entity's fields, or a page of them. */
  page: boolean;
  nullable: boolean;
}

function operationsOf(entity: EntityIR): Operation[] {
  const { operations: names, mutations, inputs } = artifactsOf(entity);
  return [
    { name: names.get, kind: 'query', field: entity.camel, variables: [{ name: 'id', gql: 'ID', ts: 'string', required: true }], page: false, nullable: true },
    {
      name: names.list,
      kind: 'query',
      field: entity.plural,
      variables: [
        { name: 'cursor', gql: 'String', ts: 'string', required: false },
        { name: 'limit', gql: 'Int', ts: 'number', required: false },
      ],
      page: true,
      nullable: false,
    },
    { name: names.create, kind: 'mutation', field: mutations.create, variables: [{ name: 'input', gql: inputs.create, ts: inputs.create, required: true }], page: false, nullable: false },
  ];
}

const typeName = (op: Operation): string => `${op.name}${op.kind === 'query' ? 'Query' : 'Mutation'}`;

/** `head(a, b) {` on one line if it fits in 100 columns, else one item per line (prettier's graphql layout). */
function call(indent: string, head: string, items: string[]): string {
  const flat = `${indent}${head}(${items.join(', ')}) {`;
  if (flat.length <= PRINT_WIDTH) return flat;
  return `${indent}${head}(\n${items.map((i) => `${indent}  ${i}`).join('\n')}\n${indent}) {`;
}

function documentText(op: Operation, selection: string[]): string {
  const vars = op.variables.map((v) => `$${v.name}: ${v.gql}${v.required ? '!' : ''}`);
  const args = op.variables.map((v) => `${v.name}: $${v.name}`);
  const fields = (pad: string) => selection.map((f) => `${pad}${f}`).join('\n');
  const inner = op.page ? `    items {\n${fields('      ')}\n    }\n    nextCursor` : fields('    ');
  return `${call('', `${op.kind} ${op.name}`, vars)}\n${call('  ', op.field, args)}\n${inner}\n  }\n}`;
}

/** The online operations of every entity, as one GraphQL document (text, as graphql-js prints it). */
export function operationDocuments(project: ProjectIR): string {
  return project.entities
    .flatMap((entity) => {
      const selection = selectionOf(entity).map((f) => f.name);
      return operationsOf(entity).map((op) => documentText(op, selection));
    })
    .join('\n\n');
}

/** The document compact, as graphql-js `stripIgnoredCharacters` prints it. */
function compactText(op: Operation, selection: string[]): string {
  const vars = op.variables.map((v) => `$${v.name}:${v.gql}${v.required ? '!' : ''}`).join('');
  const args = op.variables.map((v) => `${v.name}:$${v.name}`).join(' ');
  const fields = selection.join(' ');
  const inner = op.page ? `items{${fields}}nextCursor` : fields;
  return `${op.kind} ${op.name}(${vars}){${op.field}(${args}){${inner}}}`;
}

/**
 * `client/generated/operation-sources.ts`: the same documents as compact text, by
 * operation name, for the runtime's transport (the generated services pass them on).
 */
export function operationSourcesFile(project: ProjectIR): string {
  const sources = new Map<string, string>();
  for (const entity of project.entities) {
    const selection = selectionOf(entity).map((f) => f.name);
    for (const op of operationsOf(entity)) sources.set(op.name, compactText(op, selection));
  }
  const lines = [...sources.keys()].sort().map((name) => `  ${printProperty(name, sources.get(name)!, 2)},`);
  return `/** The documents of operations.ts as text, by operation name (for transports that send strings). */\nexport const operationSources = {\n${lines.join('\n')}\n} as const;\n`;
}


const name = (value: string) => ({ kind: 'Name', value });
const namedType = (type: string) => ({ kind: 'NamedType', name: name(type) });
const fieldNode = (field: string, selections?: unknown[], args?: string[]) => ({
  kind: 'Field',
  name: name(field),
  ...(args?.length ? { arguments: args.map((a) => ({ kind: 'Argument', name: name(a), value: { kind: 'Variable', name: name(a) } })) } : {}),
  ...(selections ? { selectionSet: { kind: 'SelectionSet', selections } } : {}),
});

function documentNode(op: Operation, selection: string[]) {
  const leaves = selection.map((f) => fieldNode(f));
  const inner = op.page ? [fieldNode('items', leaves), fieldNode('nextCursor')] : leaves;
  return {
    kind: 'Document',
    definitions: [
      {
        kind: 'OperationDefinition',
        operation: op.kind,
        name: name(op.name),
        variableDefinitions: op.variables.map((v) => ({
          kind: 'VariableDefinition',
          variable: { kind: 'Variable', name: name(v.name) },
          type: v.required ? { kind: 'NonNullType', type: namedType(v.gql) } : namedType(v.gql),
        })),
        selectionSet: { kind: 'SelectionSet', selections: [fieldNode(op.field, inner, op.variables.map((v) => v.name))] },
      },
    ],
  };
}

/** `{ a: T; ... }` broken one member per line at `indent` (Code Generator's object types always are). */
function objectType(members: { name: string; type: string }[], indent: string): string {
  return `{\n${members.map((m) => `${indent}  ${m.name}: ${m.type};`).join('\n')}\n${indent}}`;
}

function unionType(decl: string, values: string[]): string {
  const flat = `${decl} = ${values.join(' | ')};`;
  return flat.length <= 100 ? flat : `${decl} =\n${values.map((v) => `  | ${v}`).join('\n')};`;
}

const HEAD = `/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> =
  T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';`;

function operationsTs(project: ProjectIR): string {
  const blocks: string[] = [];
  // Input types and the enums the documents use, by name.
  const named = new Map<string, string>();
  for (const entity of project.entities) {
    const fields = entity.dataFields
      .map((f) => {
        const required = requiredOnCreate(f);
        const base = tsBase(f);
        return { name: `${f.name}${required ? '' : '?'}`, key: f.name, type: required || f.kind === 'Json' ? base : `${base} | null | undefined` };
      })
      .concat([{ name: 'clientId?', key: 'clientId', type: 'string | null | undefined' }])
      .sort((a, b) => naturalCompare(a.key, b.key));
    const input = artifactsOf(entity).inputs.create;
    named.set(input, `export type ${input} = ${objectType(fields, '')};`);
  }
  const used = new Set(project.entities.flatMap((e) => e.dataFields.filter((f) => f.kind === 'Enum').map((f) => f.enumName!)));
  for (const e of project.enums) {
    if (!used.has(e.name)) continue;
    named.set(e.name, unionType(`export type ${e.name}`, [...e.values].sort(naturalCompare).map((v) => `'${v}'`)));
  }
  for (const key of [...named.keys()].sort(naturalCompare)) blocks.push(named.get(key)!);

  const documents: string[] = [];
  for (const entity of project.entities) {
    const selection = selectionOf(entity);
    const fields = selection.map((f) => f.name);
    for (const op of operationsOf(entity)) {
      const type = typeName(op);
      const vars = op.variables.map((v) => ({ name: `${v.name}${v.required ? '' : '?'}`, type: v.required ? v.ts : `${v.ts} | null | undefined` }));
      blocks.push(`export type ${type}Variables = Exact<${objectType(vars, '')}>;`);
      const result = op.page
        ? `{\n    nextCursor: string | null;\n    items: Array<${objectType(selection, '    ')}>;\n  }`
        : `${objectType(selection, '  ')}${op.nullable ? ' | null' : ''}`;
      blocks.push(`export type ${type} = {\n  ${op.field}: ${result};\n};`);
      const doc = printLiteral(documentNode(op, fields), 0, 0, ` as unknown as DocumentNode<${type}, ${type}Variables>;`);
      documents.push(`export const ${op.name}Document = ${doc} as unknown as DocumentNode<${type}, ${type}Variables>;`);
    }
  }
  return `${HEAD}\n${blocks.join('\n\n')}\n\n${documents.join('\n')}\n`;
}

export const emitTypedOperations: Emitter = (project: ProjectIR) => {
  if (project.entities.length === 0) return [];
  return [
    { path: OPERATIONS_GRAPHQL_PATH, content: `${operationDocuments(project)}\n`, owner: 'generator', formatted: true },
    { path: OPERATIONS_TS_PATH, content: operationsTs(project), owner: 'generator', formatted: true },
  ];
};
