import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { withoutConnectionUrls } from './datasource.js';
import { SchemaError, type Diagnostic } from './diagnostics.js';
import { locate, positionOfOffset, type SchemaPositions } from './locate.js';
import { prismaSchemaWasm, type Datamodel, type LintMessage } from './prisma-wasm.js';

/** One file of a schema (a schema is one file, or a `prisma/schema/` folder of them). */
export interface SchemaFile {
  /** Path as shown in messages (relative to cwd when inside it). */
  file: string;
  /** Absolute path, when read from disk. */
  path?: string;
  text: string;
}

export interface ReadSchema {
  /** The schema path as the user gave it (a file, or a folder of `.prisma` files). */
  file: string;
  /** Every file, in the order Prisma reads them. One entry for a single-file schema. */
  files: SchemaFile[];
  /** The files' text joined (one valid schema: Prisma merges the files the same way). */
  text: string;
  datamodel: Datamodel;
  /** Blocks by name; each position names its own file. */
  positions: SchemaPositions;
  provider: string;
}

/** Display path for messages: relative to cwd when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}

export function parseSchemaText(text: string, file: string): ReadSchema {
  return parseSchemaFiles([{ file, text }], file);
}

/**
 * Parse and validate with Prisma's own engine. Prisma errors become diagnostics
 * with file:line:col (in the file they are in); all of them are reported at once.
 *
 * Prisma 6 connection URLs in the datasource (`url`, `directUrl`,
 * `shadowDatabaseUrl`), which the bundled Prisma 7 validator refuses, are blanked
 * out before validation (same length, so every position stays right).
 */
export function parseSchemaFiles(files: SchemaFile[], schemaFile: string): ReadSchema {
  const wasm = prismaSchemaWasm();
  const input = files.map((f) => [f.file, withoutConnectionUrls(f.text)] as [string, string]);
  const byName = new Map(input);
  // get_datamodel validates too and throws on an invalid schema: only then is `lint`
  // (the same validation, with positions) run, for file:line:col errors.
  let datamodel: Datamodel;
  try {
    datamodel = JSON.parse(wasm.get_datamodel(JSON.stringify({ prismaSchema: input, noColor: true }))) as Datamodel;
  } catch (err) {
    throw new SchemaError(lintErrors(wasm.lint(JSON.stringify(input)), files, byName, err));
  }
  const text = files.map((f) => f.text).join('\n');
  const provider = /datasource\s+\w+\s*\{[^}]*?provider\s*=\s*"([^"]+)"/s.exec(text)?.[1] ?? 'sqlite';
  const positions: SchemaPositions = { models: new Map() };
  for (const f of files) {
    const p = locate(f.text, f.file);
    for (const [name, pos] of p.models) positions.models.set(name, pos);
    positions.datasourceProvider ??= p.datasourceProvider;
  }
  return { file: schemaFile, files, text, datamodel, positions, provider };
}

/** Prisma's validation errors as diagnostics at file:line:col (the engine's own message if it gave none). */
function lintErrors(lintJson: string, files: SchemaFile[], byName: Map<string, string>, engineError: unknown): Diagnostic[] {
  const fix = 'correct the schema so that Prisma accepts it (the message is Prisma\'s own)';
  const errors: Diagnostic[] = (JSON.parse(lintJson) as LintMessage[])
    .filter((m) => !m.is_warning)
    .map((m) => {
      const file = byName.has(m.file_name) ? m.file_name : files[0].file;
      return { location: { file, ...positionOfOffset(byName.get(file)!, m.start) }, rule: 'prisma/schema', message: m.text, fix };
    });
  if (errors.length) return errors;
  const text = engineError instanceof Error ? engineError.message : String(engineError);
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: the text as it is
  }
  return [{ location: { file: files[0].file, line: 1, col: 1 }, rule: 'prisma/schema', message, fix }];
}

/** Every `.prisma` file under `dir`, recursively, sorted by path (as Prisma loads a schema folder). */
async function schemaFolderFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'migrations' && entry.name !== 'node_modules') out.push(...(await schemaFolderFiles(p)));
    } else if (entry.name.endsWith('.prisma')) out.push(p);
  }
  return out;
}

export async function readSchema(schemaPath: string): Promise<ReadSchema> {
  const { file, files } = await readSchemaFiles(schemaPath);
  return parseSchemaFiles(files, file);
}

/** The text of the schema file, or of every .prisma file of the schema folder (not parsed). */
export async function readSchemaFiles(schemaPath: string): Promise<{ file: string; files: SchemaFile[] }> {
  const file = displayPath(schemaPath);
  const files: SchemaFile[] = [];
  try {
    const paths = (await stat(schemaPath)).isDirectory() ? await schemaFolderFiles(schemaPath) : [schemaPath];
    if (paths.length === 0) throw new Error(`the folder ${file} has no .prisma file`);
    for (const p of paths) files.push({ file: displayPath(p), path: p, text: await readFile(p, 'utf8') });
  } catch (err) {
    throw new SchemaError([
      {
        location: { file, line: 1, col: 1 },
        rule: 'io/read',
        message: `cannot read the schema: ${(err as Error).message}`,
        fix: 'pass the path of your schema.prisma (or of your prisma/schema folder) with --schema, or set "schema" in trackhub.config.json',
      },
    ]);
  }
  return { file, files };
}
