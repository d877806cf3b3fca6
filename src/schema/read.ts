import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { SchemaError, type Diagnostic } from './diagnostics.js';
import { locate, positionOfOffset, type SchemaPositions } from './locate.js';
import { prismaSchemaWasm, type Datamodel, type LintMessage } from './prisma-wasm.js';

export interface ReadSchema {
  /** Path as the user gave it (used in messages). */
  file: string;
  text: string;
  datamodel: Datamodel;
  positions: SchemaPositions;
  provider: string;
}

/** Display path for messages: relative to cwd when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}

/**
 * Parse and validate with Prisma's own engine. Prisma errors become diagnostics
 * with file:line:col; all of them are reported at once.
 */
export function parseSchemaText(text: string, file: string): ReadSchema {
  const wasm = prismaSchemaWasm();
  const lint = JSON.parse(wasm.lint(JSON.stringify([[file, text]]))) as LintMessage[];
  const errors: Diagnostic[] = lint
    .filter((m) => !m.is_warning)
    .map((m) => ({
      location: { file, ...positionOfOffset(text, m.start) },
      rule: 'prisma/schema',
      message: m.text,
      fix: 'correct the schema so that Prisma accepts it (the message is Prisma\'s own)',
    }));
  if (errors.length) throw new SchemaError(errors);
  const datamodel = JSON.parse(
    wasm.get_datamodel(JSON.stringify({ prismaSchema: [[file, text]], noColor: true })),
  ) as Datamodel;
  const provider = /datasource\s+\w+\s*\{[^}]*?provider\s*=\s*"([^"]+)"/s.exec(text)?.[1] ?? 'sqlite';
  return { file, text, datamodel, positions: locate(text), provider };
}

export async function readSchema(schemaPath: string): Promise<ReadSchema> {
  const file = displayPath(schemaPath);
  let text: string;
  try {
    text = await readFile(schemaPath, 'utf8');
  } catch (err) {
    throw new SchemaError([
      {
        location: { file, line: 1, col: 1 },
        rule: 'io/read',
        message: `cannot read the schema: ${(err as Error).message}`,
        fix: 'pass the path of your schema.prisma with --schema, or set "schema" in trackhub.config.json',
      },
    ]);
  }
  return parseSchemaText(text, file);
}
