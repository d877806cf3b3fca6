/**
 * Prettier for the plan, with a content-addressed cache.
 *
 * Formatting is most of the time of `generate` and `check` (about 1.5 MB of
 * TypeScript for 100 models). Two measures:
 *
 * - TypeScript goes through prettier's `babel-ts` parser: same output as the
 *   `typescript` parser on everything we emit (the generated example and the
 *   synthetic bench schemas are checked byte for byte in test/plan/format.test.ts),
 *   about 1.5x faster.
 * - Formatted text is cached by hash of (prettier version, options, parser,
 *   unformatted text) in `node_modules/.cache/trackhub-gen/format-v1.json` of the
 *   working directory (only when that `node_modules` exists; override the folder
 *   with TRACKHUB_GEN_CACHE_DIR, turn it off with TRACKHUB_GEN_CACHE=off). Only
 *   the entries the last run used are kept, so the file stays the size of one
 *   plan. `check` after `generate`, and `generate` after a small schema change,
 *   format only the files whose text changed.
 *
 * The plan stays pure: the caller (the CLI, the Prisma generator) opens the cache
 * with openFormatCache and hands it in; `check` opens it read-only, so it never
 * writes to disk. Without one, formatAll formats everything and touches nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { createRequire } from 'node:module';
import path from 'node:path';

import type { Options } from 'prettier';

/** prettier is loaded on the first file that needs it: a plan of preformatted files never loads it. */
let prettierModule: Promise<typeof import('prettier')> | undefined;
const loadPrettier = () => (prettierModule ??= import('prettier'));
export const prettierVersion = (createRequire(import.meta.url)('prettier/package.json') as { version: string }).version;

const OPTIONS: Options = {
  printWidth: 100,
  singleQuote: true,
  trailingComma: 'all',
  semi: true,
  endOfLine: 'lf',
};

const CACHE_FILE = 'format-v1.json';

export function parserFor(file: string): string | undefined {
  if (file.endsWith('.ts')) return 'babel-ts';
  if (file.endsWith('.graphql')) return 'graphql';
  if (file.endsWith('.json')) return 'json';
  if (file.endsWith('.md')) return 'markdown';
  return undefined;
}

/** Formatted texts by content hash. */
export interface FormatCache {
  get(key: string): string | undefined;
  /** Called once per plan with the entries it used (a read-only cache ignores it). */
  save(used: ReadonlyMap<string, string>): void;
}

/** No cache: format everything, read and write nothing. */
export const noFormatCache: FormatCache = { get: () => undefined, save: () => {} };

export interface FormatCacheOptions {
  /** Working directory: the cache lives in its `node_modules/.cache/trackhub-gen`. */
  cwd: string;
  /** TRACKHUB_GEN_CACHE (`off`) and TRACKHUB_GEN_CACHE_DIR are read from here (default process.env). */
  env?: Record<string, string | undefined>;
  /** Read the cache but never write it (`check`). */
  readOnly?: boolean;
}

/** The cache folder of the working directory (see the header), or null where there is none. */
export function cacheDir(options: FormatCacheOptions): string | null {
  const env = options.env ?? process.env;
  if ((env.TRACKHUB_GEN_CACHE ?? '').toLowerCase() === 'off') return null;
  if (env.TRACKHUB_GEN_CACHE_DIR) return env.TRACKHUB_GEN_CACHE_DIR;
  const modules = path.join(options.cwd, 'node_modules');
  return existsSync(modules) ? path.join(modules, '.cache', 'trackhub-gen') : null;
}

/** The on-disk cache of the working directory (see the header), or noFormatCache where there is none. */
export function openFormatCache(options: FormatCacheOptions): FormatCache {
  const dir = cacheDir(options);
  if (!dir) return noFormatCache;
  const entries = loadCache(dir);
  return {
    get: (key) => entries.get(key),
    save: (used) => {
      if (!options.readOnly) saveCache(dir, used);
    },
  };
}

function loadCache(dir: string): Map<string, string> {
  try {
    const data = JSON.parse(readFileSync(path.join(dir, CACHE_FILE), 'utf8')) as Record<string, string>;
    return new Map(Object.entries(data));
  } catch {
    return new Map(); // missing or unreadable: start empty
  }
}

function saveCache(dir: string, used: ReadonlyMap<string, string>): void {
  try {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, CACHE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(used)));
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs time next run.
  }
}

export interface FormatRequest {
  path: string;
  content: string;
  /** Already in its final format (see EmittedFile.formatted): returned as it is. */
  formatted?: boolean;
}

/**
 * A code line longer than prettier's print width (comments and lone string literals,
 * which prettier never breaks, aside): the emitter's layout missed a case, so
 * prettier formats the file.
 */
const UNBREAKABLE = /^\s*(\/\/|\/\*|\*|'[^'\n]*',?$)/;

export function overWidth(text: string): boolean {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > OPTIONS.printWidth! && !UNBREAKABLE.test(text.slice(start, end))) return true;
    start = end + 1;
  }
  return false;
}

/**
 * Formats every request that has a parser (others are returned as they are);
 * throws `internal error: emitted <path> does not parse` for invalid output.
 */
export async function formatAll(requests: readonly FormatRequest[], cache: FormatCache = noFormatCache): Promise<string[]> {
  const used = new Map<string, string>();
  const salt = `${prettierVersion}\0${JSON.stringify(OPTIONS)}\0`;
  const out: string[] = [];
  for (const request of requests) {
    const parser = parserFor(request.path);
    if (!parser || (request.formatted && !(parser === 'babel-ts' && overWidth(request.content)))) {
      out.push(request.content);
      continue;
    }
    const key = createHash('sha1').update(salt).update(parser).update('\0').update(request.content).digest('base64url');
    let formatted = cache.get(key);
    if (formatted === undefined) {
      try {
        formatted = await (await loadPrettier()).format(request.content, { ...OPTIONS, parser });
      } catch (err) {
        throw new Error(`internal error: emitted ${request.path} does not parse (${(err as Error).message.split('\n')[0]})`);
      }
    }
    used.set(key, formatted);
    out.push(formatted);
  }
  cache.save(used);
  return out;
}
