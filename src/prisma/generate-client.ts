/**
 * Runs Prisma's `prisma-client` generator in-process, without the `prisma` CLI
 * (the CLI insists on a native schema engine it cannot download offline).
 *
 * How (see BUILD-NOTES "Prisma without its native engines"): `loadSchemaContext`
 * + `getGenerators({ skipDownload: true })` from `@prisma/internals`, with the
 * generator registry from `@prisma/client-generator-registry`, both loaded as
 * CommonJS.
 *
 * The schema's generator block is rewritten so that the output is always the
 * same TypeScript ESM client in `outputDir`, whatever the input says:
 *   provider = "prisma-client", output = (outputDir, see below), moduleFormat = "esm",
 *   importFileExtension = "js", generatedFileExtension = "ts".
 * Other generator blocks are dropped (they are not ours to run). Line numbers
 * are preserved so that validation errors point at the caller's lines.
 *
 * Layout of `outputDir` after a run:
 *   client.ts, models/..., internal/...   the generated client (import client.ts)
 *   schema.prisma                         the exact schema it was generated from
 *   .trackhub-client-hash                 hash of that schema + generator version
 *
 * The generator runs in a staging directory next to `outputDir`:
 *   <parent>/.<name>.staging-<pid>-<random>/schema.prisma   (output = "./client")
 *   <parent>/.<name>.staging-<pid>-<random>/client/         (generated)
 * and `client/` is then renamed to `outputDir`. The generated files embed the
 * schema text (with `output = "./client"`) but no absolute or random path, so
 * they depend on the schema text only (deterministic, relocatable), and
 * parallel processes (vitest workers) never see a half-written client.
 * When the output is already up to date (hash file matches) nothing is done.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { blockProvider, findBlocks, prismaString, type SchemaBlock } from './providers.js';

const require = createRequire(import.meta.url);

/** Bump when the way we drive the generator changes (invalidates every cached client). */
const GENERATION_SCHEME = 'trackhub-prisma-client/1';
export const HASH_FILE = '.trackhub-client-hash';
export const CLIENT_ENTRY = 'client.ts';
const SCHEMA_FILE = 'schema.prisma';
/** Output folder, relative to the staged schema file. */
const STAGING_OUTPUT = 'client';

export interface GeneratePrismaClientOptions {
  /** Full text of the Prisma schema (one file). */
  schemaText: string;
  /** Where the text came from; only used in error messages. Nothing is read from or written to it. */
  schemaPath?: string;
  /** Directory that receives the generated client. Created if missing; its previous contents are replaced. */
  outputDir: string;
}

export interface EnsurePrismaClientResult {
  /** Absolute output directory. */
  outputDir: string;
  /** Absolute path of the client entry module (`<outputDir>/client.ts`). */
  entry: string;
  /** False when the output was already up to date and nothing was written. */
  generated: boolean;
  /** The content hash stored in the hash file. */
  hash: string;
}

/** Generates the client (or does nothing when `outputDir` already holds it for the same schema text). */
export async function generatePrismaClient(opts: GeneratePrismaClientOptions): Promise<void> {
  await ensurePrismaClient(opts);
}

/** Same as {@link generatePrismaClient}, reporting what it did. */
export async function ensurePrismaClient(opts: GeneratePrismaClientOptions): Promise<EnsurePrismaClientResult> {
  const outputDir = path.resolve(opts.outputDir);
  const entry = path.join(outputDir, CLIENT_ENTRY);
  const schemaText = rewriteGeneratorBlock(opts.schemaText);
  const hash = clientHash(schemaText);
  const result = (generated: boolean): EnsurePrismaClientResult => ({ outputDir, entry, generated, hash });

  if (await isUpToDate(outputDir, hash)) return result(false);
  await assertReplaceable(outputDir);

  const parent = path.dirname(outputDir);
  await mkdir(parent, { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const stagingRoot = path.join(parent, `.${path.basename(outputDir)}.staging-${suffix}`);
  const staging = path.join(stagingRoot, STAGING_OUTPUT);
  try {
    await mkdir(stagingRoot, { recursive: true });
    const schemaFile = path.join(stagingRoot, SCHEMA_FILE);
    await writeFile(schemaFile, schemaText);
    await runGenerator(schemaFile, opts.schemaPath ?? '<schema text>');
    if (!existsSync(path.join(staging, CLIENT_ENTRY))) {
      throw new Error(`Prisma generator produced no ${CLIENT_ENTRY} in ${staging}`);
    }
    await writeFile(path.join(staging, SCHEMA_FILE), schemaText);
    await writeFile(path.join(staging, HASH_FILE), `${hash}\n`);
    await swapIntoPlace(staging, outputDir, hash, suffix);
  } finally {
    await rm(stagingRoot, { recursive: true, force: true });
  }
  return result(true);
}

/** True when `outputDir` holds a client generated by us for exactly this schema text. */
export async function prismaClientIsUpToDate(opts: { schemaText: string; outputDir: string }): Promise<boolean> {
  return isUpToDate(path.resolve(opts.outputDir), clientHash(rewriteGeneratorBlock(opts.schemaText)));
}

function clientHash(rewrittenSchema: string): string {
  const prismaVersion = (require('@prisma/client/package.json') as { version: string }).version;
  return createHash('sha256')
    .update(JSON.stringify([GENERATION_SCHEME, prismaVersion, rewrittenSchema]))
    .digest('hex');
}

async function isUpToDate(outputDir: string, hash: string): Promise<boolean> {
  try {
    const stored = (await readFile(path.join(outputDir, HASH_FILE), 'utf8')).trim();
    return stored === hash && existsSync(path.join(outputDir, CLIENT_ENTRY));
  } catch {
    return false;
  }
}

/** Refuses to replace a non-empty directory that is neither ours nor a Prisma client. */
async function assertReplaceable(outputDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch {
    return; // missing
  }
  if (entries.length === 0 || entries.includes(HASH_FILE)) return;
  const client = path.join(outputDir, CLIENT_ENTRY);
  if (existsSync(client) && (await readFile(client, 'utf8')).includes('This is code generated by Prisma')) return;
  throw new Error(
    `Refusing to generate the Prisma client into ${outputDir}: it is not empty and does not hold a generated client`,
  );
}

async function swapIntoPlace(staging: string, outputDir: string, hash: string, suffix: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await rename(staging, outputDir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
    }
    // Someone else (another worker) may have just produced the same client.
    if (await isUpToDate(outputDir, hash)) return;
    const trash = path.join(path.dirname(outputDir), `.${path.basename(outputDir)}.old-${suffix}-${attempt}`);
    try {
      await rename(outputDir, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }
  throw new Error(`Could not move the generated Prisma client into ${outputDir} (concurrent writers?)`);
}

// --- generator block rewrite -------------------------------------------------

const FORCED_KEYS = ['provider', 'output', 'moduleFormat', 'importFileExtension', 'generatedFileExtension'];
const KEY_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * Keeps one `prisma-client` generator (else the `prisma-client-js` one, as a
 * `prisma-client`; else a new one), forces its
 * output (`"./client"`, relative to the staged schema file, see the module doc)
 * and module settings, and removes every other generator block.
 *
 * Line numbers are preserved, so Prisma's validation errors point at the right
 * line of the caller's schema: every original generator block is replaced by a
 * comment plus blank lines, and the resulting generator block is appended at the end.
 */
export function rewriteGeneratorBlock(schemaText: string): string {
  const generators = findBlocks(schemaText).filter((b) => b.kind === 'generator');
  // A Prisma 6 schema has `prisma-client-js`: keep its settings (previewFeatures, ...) too.
  const keep: SchemaBlock | undefined =
    generators.find((b) => blockProvider(schemaText, b) === 'prisma-client') ??
    generators.find((b) => blockProvider(schemaText, b) === 'prisma-client-js');

  let out = '';
  let pos = 0;
  for (const g of generators) {
    const original = schemaText.slice(g.start, g.end);
    const lineBreaks = original.split('\n').length - 1;
    const note = g === keep ? 'moved to the end of the file' : 'removed';
    out += schemaText.slice(pos, g.start) + `// generator ${g.name}: ${note} by trackhub-gen` + '\n'.repeat(lineBreaks);
    pos = g.end;
  }
  out += schemaText.slice(pos);

  const kept = keep
    ? schemaText
        .slice(keep.bodyStart, keep.bodyEnd)
        .split('\n')
        .filter((line) => {
          const m = KEY_RE.exec(line);
          return line.trim() !== '' && !(m && FORCED_KEYS.includes(m[1]!));
        })
    : [];
  const block = [
    `generator ${keep?.name ?? 'client'} {`,
    `  provider               = "prisma-client"`,
    `  output                 = ${prismaString(`./${STAGING_OUTPUT}`)}`,
    `  moduleFormat           = "esm"`,
    `  importFileExtension    = "js"`,
    `  generatedFileExtension = "ts"`,
    ...kept,
    '}',
    '',
  ].join('\n');
  return `${out}${out.endsWith('\n') ? '' : '\n'}\n${block}`;
}

// --- running the generator -----------------------------------------------------

interface PrismaInternals {
  loadSchemaContext(opts: {
    schemaPath: { cliProvidedPath: string };
    printLoadMessage?: boolean;
    cwd?: string;
  }): Promise<unknown>;
  getGenerators(opts: {
    schemaContext: unknown;
    registry: unknown;
    skipDownload?: boolean;
    printDownloadProgress?: boolean;
    cliCommand: string;
  }): Promise<Array<{ generate(): Promise<void>; stop(): void; getProvider(): string }>>;
}

let loaded: { internals: PrismaInternals; registry: unknown } | undefined;

function loadPrisma(): { internals: PrismaInternals; registry: unknown } {
  if (!loaded) {
    const internals = require('@prisma/internals') as PrismaInternals;
    const { defaultRegistry } = require('@prisma/client-generator-registry') as {
      defaultRegistry: { toInternal(): unknown };
    };
    loaded = { internals, registry: defaultRegistry.toInternal() };
  }
  return loaded;
}

async function runGenerator(schemaFile: string, displayPath: string): Promise<void> {
  const { internals, registry } = loadPrisma();
  let generators: Awaited<ReturnType<PrismaInternals['getGenerators']>> = [];
  try {
    const schemaContext = await internals.loadSchemaContext({
      schemaPath: { cliProvidedPath: schemaFile },
      printLoadMessage: false,
      cwd: path.dirname(schemaFile),
    });
    generators = await internals.getGenerators({
      schemaContext,
      registry,
      skipDownload: true,
      printDownloadProgress: false,
      cliCommand: 'trackhub-gen',
    });
    for (const generator of generators) await generator.generate();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Prisma client generation failed for ${displayPath}:\n${message.split(schemaFile).join(displayPath)}`, {
      cause: error,
    });
  } finally {
    for (const generator of generators) generator.stop();
  }
}
