/**
 * Text-level rewrites of a Prisma schema for a given database provider.
 *
 * These functions edit the schema TEXT (not an AST) so that everything they do
 * not touch stays byte-identical: comments, `///` docs, alignment, blank lines.
 * The small scanner below understands exactly what is needed for that: top-level
 * blocks (`model`, `view`, `enum`, `type`, `generator`, `datasource`), string
 * literals and `//` comments.
 */

import { withoutConnectionUrls } from '../schema/datasource.js';

export type PrismaProvider = 'sqlite' | 'postgresql';

export const PRISMA_PROVIDERS: readonly PrismaProvider[] = ['sqlite', 'postgresql'];

export interface SchemaBlock {
  kind: 'model' | 'view' | 'enum' | 'type' | 'generator' | 'datasource';
  name: string;
  /** Offset of the block keyword. */
  start: number;
  /** Offset just after the opening `{`. */
  bodyStart: number;
  /** Offset of the closing `}`. */
  bodyEnd: number;
  /** Offset just after the closing `}`. */
  end: number;
}

const BLOCK_RE = /(model|view|enum|type|generator|datasource)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/y;

/** Skips a string literal starting at `i` (which must be `"`); returns the offset after it. */
function skipString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') j += 2;
    else if (c === '"') return j + 1;
    else if (c === '\n') return j; // unterminated: stop at end of line
    else j++;
  }
  return j;
}

function skipLineComment(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl === -1 ? text.length : nl;
}

/** Lists the top-level blocks of a schema, in order. Throws on an unterminated block. */
export function findBlocks(text: string): SchemaBlock[] {
  const blocks: SchemaBlock[] = [];
  let i = 0;
  let lineStart = true;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      i = skipLineComment(text, i);
      continue;
    }
    if (c === '"') {
      i = skipString(text, i);
      lineStart = false;
      continue;
    }
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (lineStart) {
      BLOCK_RE.lastIndex = i;
      const m = BLOCK_RE.exec(text);
      if (m) {
        const bodyStart = i + m[0].length;
        const bodyEnd = findClosingBrace(text, bodyStart);
        if (bodyEnd === -1) throw new Error(`Unterminated ${m[1]} block "${m[2]}" in Prisma schema`);
        blocks.push({
          kind: m[1] as SchemaBlock['kind'],
          name: m[2]!,
          start: i,
          bodyStart,
          bodyEnd,
          end: bodyEnd + 1,
        });
        i = bodyEnd + 1;
        lineStart = false;
        continue;
      }
    }
    lineStart = false;
    i++;
  }
  return blocks;
}

function findClosingBrace(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') i = skipLineComment(text, i);
    else if (c === '"') i = skipString(text, i);
    else if (c === '}') return i;
    else i++;
  }
  return -1;
}

/** Splits one line into its code part and its trailing comment (`//` or `///`, with the whitespace before it). */
export function splitLineComment(line: string): { code: string; rest: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '"') i = skipString(line, i);
    else if (c === '/' && line[i + 1] === '/') break;
    else i++;
  }
  const code = line.slice(0, i).replace(/\s+$/, '');
  return { code, rest: line.slice(code.length) };
}

/** Applies `edit` to each line of each matching block's body; other text is untouched. */
export function mapBlockLines(
  text: string,
  kinds: ReadonlyArray<SchemaBlock['kind']>,
  edit: (line: string, block: SchemaBlock) => string,
): string {
  let out = '';
  let pos = 0;
  for (const block of findBlocks(text)) {
    if (!kinds.includes(block.kind)) continue;
    const body = text.slice(block.bodyStart, block.bodyEnd);
    out += text.slice(pos, block.bodyStart);
    out += body
      .split('\n')
      .map((line) => edit(line, block))
      .join('\n');
    pos = block.bodyEnd;
  }
  return out + text.slice(pos);
}

/** A string literal value as Prisma writes it (JSON-compatible escaping). */
export function prismaString(value: string): string {
  return JSON.stringify(value);
}

const PROVIDER_LINE_RE = /^(\s*provider\s*=\s*)("(?:[^"\\]|\\.)*")/;
const OUTPUT_LINE_RE = /^(\s*output\s*=\s*)("(?:[^"\\]|\\.)*"|env\([^)]*\))/;
const DATETIME_FIELD_RE = /^\s*[A-Za-z_][A-Za-z0-9_]*\s+DateTime(\?|\[\])?(\s|$)/;
const NATIVE_TYPE_RE = /\s*@db\.[A-Za-z_][A-Za-z0-9_]*(\([^)]*\))?/g;

export const POSTGRES_DATETIME_NATIVE_TYPE = '@db.Timestamptz(3)';

/**
 * Rewrites a schema for `provider`:
 * - the `datasource` block's `provider` becomes `provider`;
 * - for `postgresql`, every `DateTime` field (in `model` and `view` blocks) without a
 *   native type gets `@db.Timestamptz(3)` appended to its attributes (before a trailing comment);
 * - for `sqlite`, `@db.*` native type attributes are removed (SQLite has none, and a
 *   schema written for PostgreSQL would not validate otherwise);
 * - with `opts.output`, the `output` of every `prisma-client`/`prisma-client-js` generator
 *   is set to that path (inserted after `provider` when missing).
 * - Prisma 6 connection URLs (`url`, `directUrl`, `shadowDatabaseUrl`) in the datasource
 *   are blanked out (Prisma 7 refuses them; see src/schema/datasource.ts).
 * Everything else stays byte-identical; the function is idempotent.
 */
export function toProviderSchema(
  schemaText: string,
  provider: PrismaProvider,
  opts: { output?: string } = {},
): string {
  if (!PRISMA_PROVIDERS.includes(provider)) throw new Error(`Unsupported provider "${String(provider)}"`);
  schemaText = withoutConnectionUrls(schemaText);
  const blocks = findBlocks(schemaText);
  if (!blocks.some((b) => b.kind === 'datasource')) throw new Error('Prisma schema has no datasource block');

  let sawProvider = false;
  let text = mapBlockLines(schemaText, ['datasource'], (line) => {
    const m = PROVIDER_LINE_RE.exec(line);
    if (!m) return line;
    sawProvider = true;
    return m[1] + prismaString(provider) + line.slice(m[0].length);
  });
  if (!sawProvider) throw new Error('The datasource block has no provider = "..." line');

  text = mapBlockLines(text, ['model', 'view'], (line) => {
    const { code, rest } = splitLineComment(line);
    if (provider === 'postgresql') {
      if (!DATETIME_FIELD_RE.test(code) || /@db\./.test(code)) return line;
      return `${code} ${POSTGRES_DATETIME_NATIVE_TYPE}${rest}`;
    }
    if (!/@db\./.test(code)) return line;
    return code.replace(NATIVE_TYPE_RE, '') + rest;
  });

  if (opts.output !== undefined) text = setGeneratorOutput(text, opts.output);
  return text;
}

/** Reads the `provider = "..."` of a block body, or undefined. */
export function blockProvider(text: string, block: SchemaBlock): string | undefined {
  for (const line of text.slice(block.bodyStart, block.bodyEnd).split('\n')) {
    const m = PROVIDER_LINE_RE.exec(line);
    if (m) return JSON.parse(m[2]!) as string;
  }
  return undefined;
}

/** The `provider` of the datasource block (e.g. `sqlite`, `postgresql`). */
export function datasourceProvider(schemaText: string): string | undefined {
  const ds = findBlocks(schemaText).find((b) => b.kind === 'datasource');
  return ds ? blockProvider(schemaText, ds) : undefined;
}

function setGeneratorOutput(text: string, output: string): string {
  const isClientGenerator = (b: SchemaBlock) =>
    b.kind === 'generator' && ['prisma-client', 'prisma-client-js'].includes(blockProvider(text, b) ?? '');
  const targets = findBlocks(text).filter(isClientGenerator);
  if (targets.length === 0) throw new Error('Prisma schema has no prisma-client generator to set the output of');
  const names = new Set(targets.map((b) => b.name));
  return mapGeneratorBodies(text, names, (body) => {
    const lines = body.split('\n');
    const idx = lines.findIndex((l) => OUTPUT_LINE_RE.test(l));
    if (idx >= 0) {
      const m = OUTPUT_LINE_RE.exec(lines[idx]!)!;
      lines[idx] = m[1] + prismaString(output) + lines[idx]!.slice(m[0].length);
    } else {
      const p = lines.findIndex((l) => PROVIDER_LINE_RE.test(l));
      const indent = /^\s*/.exec(lines[p] ?? '  ')![0] || '  ';
      lines.splice(p + 1, 0, `${indent}output = ${prismaString(output)}`);
    }
    return lines.join('\n');
  });
}

function mapGeneratorBodies(text: string, names: Set<string>, edit: (body: string) => string): string {
  let out = '';
  let pos = 0;
  for (const b of findBlocks(text)) {
    if (b.kind !== 'generator' || !names.has(b.name)) continue;
    out += text.slice(pos, b.bodyStart) + edit(text.slice(b.bodyStart, b.bodyEnd));
    pos = b.bodyEnd;
  }
  return out + text.slice(pos);
}
