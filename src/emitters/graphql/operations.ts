/**
 * Typed online operations: `graphql/operations.graphql` holds, per entity, the
 * documents of the online API the client uses (Get<Entity>, List<Entities>,
 * Create<Entity>); GraphQL Code Generator (typescript-operations +
 * typed-document-node, run in-process through @graphql-codegen/core, nothing
 * read from disk) turns them into `client/generated/operations.ts`:
 * `TypedDocumentNode`s any GraphQL client takes (Apollo, urql, graphql-request),
 * with their result and variable types. The client emitter writes the same documents
 * as text (`operation-sources.ts`, see operationSourcesFile) for the runtime's own
 * transport, which has no GraphQL parser.
 *
 * GraphQL Code Generator is a dependency of the CLI, loaded only here (on demand, so
 * commands that do not generate never pay for it).
 */
import { parse, print, stripIgnoredCharacters } from 'graphql';

import { artifactsOf } from '../../model/artifacts.js';
import type { EntityIR, ProjectIR } from '../../model/types.js';
import type { AsyncEmitter } from '../types.js';
import { emitGraphql } from './index.js';

async function loadCodegen() {
  const [core, typescriptOperations, typedDocumentNode] = await Promise.all([
    import('@graphql-codegen/core'),
    import('@graphql-codegen/typescript-operations'),
    import('@graphql-codegen/typed-document-node'),
  ]);
  return { codegen: core.codegen, typescriptOperations, typedDocumentNode };
}

export const OPERATIONS_GRAPHQL_PATH = 'graphql/operations.graphql';
export const OPERATIONS_TS_PATH = 'client/generated/operations.ts';


function documentsFor(entity: EntityIR): string {
  // The same selection the runtime stores locally: server metadata and every synced field.
  const selection = ['id', 'clientId', 'version', 'updatedAt', 'deletedAt', ...entity.dataFields.map((f) => f.name)].join(' ');
  const { operations: names, mutations, inputs } = artifactsOf(entity);
  return [
    `query ${names.get}($id: ID!) { ${entity.camel}(id: $id) { ${selection} } }`,
    `query ${names.list}($cursor: String, $limit: Int) { ${entity.plural}(cursor: $cursor, limit: $limit) { items { ${selection} } nextCursor } }`,
    `mutation ${names.create}($input: ${inputs.create}!) { ${mutations.create}(input: $input) { ${selection} } }`,
  ].join('\n');
}

/** The online operations of every entity, as one GraphQL document (text). */
export function operationDocuments(project: ProjectIR): string {
  return project.entities.map(documentsFor).join('\n\n');
}

/**
 * `client/generated/operation-sources.ts`: the same documents as compact text, by
 * operation name, for the runtime's transport (the generated services pass them on).
 */
export function operationSourcesFile(project: ProjectIR): string {
  const sources: Record<string, string> = {};
  if (project.entities.length > 0) {
    for (const definition of parse(operationDocuments(project)).definitions) {
      if (definition.kind === 'OperationDefinition' && definition.name)
        sources[definition.name.value] = stripIgnoredCharacters(print(definition));
    }
  }
  const lines = Object.keys(sources)
    .sort()
    .map((name) => `  ${name}: ${JSON.stringify(sources[name])},`);
  return `/** The documents of operations.ts as text, by operation name (for transports that send strings). */\nexport const operationSources = {\n${lines.join('\n')}\n} as const;\n`;
}

export const emitTypedOperations: AsyncEmitter = async (project: ProjectIR, options) => {
  if (project.entities.length === 0) return [];
  const sdl = emitGraphql(project, options)[0]!.content;
  const document = parse(operationDocuments(project));
  const { codegen, typescriptOperations, typedDocumentNode } = await loadCodegen();
  const generated = await codegen({
    filename: OPERATIONS_TS_PATH,
    schema: parse(sdl),
    documents: [{ document, location: OPERATIONS_GRAPHQL_PATH }],
    config: { useTypeImports: true, scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' } },
    plugins: [{ typescriptOperations: {} }, { typedDocumentNode: {} }],
    pluginMap: { typescriptOperations, typedDocumentNode },
  });
  return [
    { path: OPERATIONS_GRAPHQL_PATH, content: print(document), owner: 'generator' },
    { path: OPERATIONS_TS_PATH, content: `${generated.trim()}\n`, owner: 'generator' },
  ];
};
