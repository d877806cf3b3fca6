/**
 * operations.ts, operations.graphql and operation-sources.ts are printed by
 * emitters/graphql/operations.ts itself. They must be byte for byte what GraphQL Code
 * Generator (typescript-operations + typed-document-node, as configured before) and
 * prettier make of the same documents and SDL, and what graphql-js prints.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { codegen } from '@graphql-codegen/core';
import * as typedDocumentNode from '@graphql-codegen/typed-document-node';
import * as typescriptOperations from '@graphql-codegen/typescript-operations';
import { parse, print, stripIgnoredCharacters } from 'graphql';
import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

import { syntheticSchema } from '../../bench/schema-gen.js';
import { emitGraphql } from '../../src/emitters/graphql/index.js';
import { emitTypedOperations, operationDocuments, operationSourcesFile, OPERATIONS_GRAPHQL_PATH, OPERATIONS_TS_PATH } from '../../src/emitters/graphql/operations.js';
import { defaultEmitOptions } from '../../src/emitters/types.js';
import { loadProject } from '../../src/model/build.js';
import { overWidth } from '../../src/plan/format.js';
import { namesSchema, PRETTIER_OPTIONS } from '../support/schemas.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-typed-ops-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));



describe('typed operations', () => {
  it.each([
    ['the example schema', path.resolve('fixtures/trackhub/schema.prisma')],
    ['a synthetic 30-model schema (bench)', 'synthetic'],
    ['long and short names', 'names'],
  ])('equal GraphQL Code Generator + prettier output on %s', async (_name, schema) => {
    let schemaPath = schema;
    if (schema === 'synthetic' || schema === 'names') {
      schemaPath = path.join(tmp, `${schema}.prisma`);
      writeFileSync(schemaPath, schema === 'synthetic' ? syntheticSchema(30) : namesSchema());
    }
    const project = await loadProject(schemaPath);
    const files = new Map(emitTypedOperations(project, defaultEmitOptions).map((f) => [f.path, f.content]));
    const document = parse(operationDocuments(project));
    const generated = await codegen({
      filename: OPERATIONS_TS_PATH,
      schema: parse(emitGraphql(project, defaultEmitOptions)[0]!.content),
      documents: [{ document, location: OPERATIONS_GRAPHQL_PATH }],
      config: { useTypeImports: true, scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' } },
      plugins: [{ typescriptOperations: {} }, { typedDocumentNode: {} }],
      pluginMap: { typescriptOperations, typedDocumentNode },
    });
    const expected = await prettier.format(generated, { ...PRETTIER_OPTIONS, parser: 'typescript' });
    const ours = files.get(OPERATIONS_TS_PATH)!;
    // A line over the print width (very long names) sends the file through prettier in the plan.
    expect(overWidth(ours) ? await prettier.format(ours, { ...PRETTIER_OPTIONS, parser: 'typescript' }) : ours).toBe(expected);
    if (schema !== 'names') expect(overWidth(ours)).toBe(false);

    const graphql = files.get(OPERATIONS_GRAPHQL_PATH)!;
    const expectedGraphql = await prettier.format(print(document), { ...PRETTIER_OPTIONS, parser: 'graphql' });
    expect(overWidth(graphql) ? await prettier.format(graphql, { ...PRETTIER_OPTIONS, parser: 'graphql' }) : graphql).toBe(expectedGraphql);
    if (schema !== 'names') expect(overWidth(graphql)).toBe(false);

    const sources = operationSourcesFile(project);
    for (const definition of document.definitions) {
      if (definition.kind !== 'OperationDefinition') continue;
      expect(sources).toContain(`'${stripIgnoredCharacters(print(definition))}',`);
    }
    expect(await prettier.format(sources, { ...PRETTIER_OPTIONS, parser: 'typescript' })).toBe(sources);
  });
});
