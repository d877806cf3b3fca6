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

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-typed-ops-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OPTIONS = { printWidth: 100, singleQuote: true, trailingComma: 'all', semi: true, endOfLine: 'lf' } as const;

/** Long and short model, field and enum names, relations both ways, media, every kind. */
function namesSchema(): string {
  const long = 'AnExceptionallyLongModelNameForLayoutChecks';
  return `generator client {
  provider = "prisma-client"
  output   = "./client"
}

datasource db {
  provider = "sqlite"
}

enum AVeryLongEnumerationNameForTheLayoutTest {
  FIRST_VERY_LONG_ENUM_VALUE_NAME
  SECOND_VERY_LONG_ENUM_VALUE_NAME
  THIRD_VERY_LONG_ENUM_VALUE_NAME
}

/// @sync
model A {
  id        String    @id @default(uuid())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime  @updatedAt
  deletedAt DateTime?
  tenantId  String
  x         String
  items     ${long}[]

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}

/// @sync(conflict: "merge")
model ${long} {
  id                                           String    @id @default(uuid())
  clientId                                     String?
  version                                      Int       @default(1)
  updatedAt                                    DateTime  @updatedAt
  deletedAt                                    DateTime?
  tenantId                                     String
  aFieldWithAnUnusuallyLongNameToPushLinesOut  String?
  anotherFieldWithAVeryLongNameForTheLayout    AVeryLongEnumerationNameForTheLayoutTest @default(FIRST_VERY_LONG_ENUM_VALUE_NAME)
  aVeryLongNumericFieldNameWithADefaultValue   Int       @default(12345)
  aVeryLongJsonFieldNameToSeeHowItIsLaidOut    Json?
  aVeryLongMediaFieldNameThatTakesAnUploadUrl  String?   /// @sync.media
  aId                                          String
  a                                            A         @relation(fields: [aId], references: [id])

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}
`;
}


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
    const expected = await prettier.format(generated, { ...OPTIONS, parser: 'typescript' });
    const ours = files.get(OPERATIONS_TS_PATH)!;
    // A line over the print width (very long names) sends the file through prettier in the plan.
    expect(overWidth(ours) ? await prettier.format(ours, { ...OPTIONS, parser: 'typescript' }) : ours).toBe(expected);
    if (schema !== 'names') expect(overWidth(ours)).toBe(false);

    const graphql = files.get(OPERATIONS_GRAPHQL_PATH)!;
    const expectedGraphql = await prettier.format(print(document), { ...OPTIONS, parser: 'graphql' });
    expect(overWidth(graphql) ? await prettier.format(graphql, { ...OPTIONS, parser: 'graphql' }) : graphql).toBe(expectedGraphql);
    if (schema !== 'names') expect(overWidth(graphql)).toBe(false);

    const sources = operationSourcesFile(project);
    for (const definition of document.definitions) {
      if (definition.kind !== 'OperationDefinition') continue;
      expect(sources).toContain(`'${stripIgnoredCharacters(print(definition))}',`);
    }
    expect(await prettier.format(sources, { ...OPTIONS, parser: 'typescript' })).toBe(sources);
  });
});
