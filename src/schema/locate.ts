/**
 * Source positions for models, fields, block attributes and `///` comments.
 *
 * Prisma's datamodel (prisma-schema-wasm) carries no positions, so this scans the
 * same text for the lines the datamodel names. It only locates; it never decides
 * what the schema means.
 */

export interface Position {
  line: number; // 1-based
  col: number; // 1-based
}

export interface DocLine extends Position {
  /** Text after `///`, trimmed. */
  text: string;
  /** Column where `text` starts. */
  textCol: number;
}

export interface FieldPos extends Position {
  typeCol: number;
  /** Trailing `///` comment on the field line. */
  doc?: DocLine;
  /** `///` lines directly above the field. */
  docsAbove: DocLine[];
}

export interface BlockAttrPos extends Position {
  /** e.g. `@@unique([tenantId, clientId])` */
  text: string;
}

export interface ModelPos extends Position {
  /** The schema file the block is in (display path). */
  file: string;
  /** A `view` block is located too, so that an annotation on it can be refused. */
  kind: 'model' | 'view';
  /** Line of the closing brace, for "add this before" hints. */
  endLine: number;
  docs: DocLine[];
  fields: Map<string, FieldPos>;
  blockAttributes: BlockAttrPos[];
}

export interface SchemaPositions {
  models: Map<string, ModelPos>;
  datasourceProvider?: Position;
}

function docOf(line: string, lineNo: number): DocLine | undefined {
  const idx = line.indexOf('///');
  if (idx < 0) return undefined;
  const rest = line.slice(idx + 3);
  const lead = rest.length - rest.trimStart().length;
  return { line: lineNo, col: idx + 1, text: rest.trim(), textCol: idx + 4 + lead };
}

export function locate(text: string, file = 'schema.prisma'): SchemaPositions {
  const lines = text.split(/\r?\n/);
  const models = new Map<string, ModelPos>();
  let pendingDocs: DocLine[] = [];
  let current: ModelPos | undefined;
  let currentName = '';
  let fieldDocs: DocLine[] = [];
  let datasourceProvider: Position | undefined;
  let inDatasource = false;

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (!current) {
      const m = /^(\s*)(model|view)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/.exec(raw);
      if (m) {
        current = {
          file,
          kind: m[2] as 'model' | 'view',
          line: lineNo,
          col: m[1].length + 1,
          endLine: lineNo,
          docs: pendingDocs,
          fields: new Map(),
          blockAttributes: [],
        };
        currentName = m[3];
        pendingDocs = [];
        fieldDocs = [];
        return;
      }
      if (/^\s*datasource\s+\w+\s*\{/.test(raw)) inDatasource = true;
      if (inDatasource) {
        const p = /^(\s*)provider\s*=/.exec(raw);
        if (p) datasourceProvider = { line: lineNo, col: p[1].length + 1 };
        if (trimmed.startsWith('}')) inDatasource = false;
      }
      if (trimmed.startsWith('///')) pendingDocs.push(docOf(raw, lineNo)!);
      else if (trimmed !== '') pendingDocs = [];
      return;
    }
    if (trimmed.startsWith('}')) {
      current.endLine = lineNo;
      models.set(currentName, current);
      current = undefined;
      pendingDocs = [];
      return;
    }
    if (trimmed.startsWith('///')) {
      fieldDocs.push(docOf(raw, lineNo)!);
      return;
    }
    if (trimmed.startsWith('//') || trimmed === '') {
      if (trimmed === '') fieldDocs = [];
      return;
    }
    const indent = raw.length - raw.trimStart().length;
    if (trimmed.startsWith('@@')) {
      current.blockAttributes.push({ line: lineNo, col: indent + 1, text: trimmed.replace(/\s*\/\/.*$/, '') });
      fieldDocs = [];
      return;
    }
    const f = /^([A-Za-z_][A-Za-z0-9_]*)(\s+)(\S)/.exec(trimmed);
    if (f) {
      current.fields.set(f[1], {
        line: lineNo,
        col: indent + 1,
        typeCol: indent + 1 + f[1].length + f[2].length,
        doc: docOf(raw, lineNo),
        docsAbove: fieldDocs,
      });
    }
    fieldDocs = [];
  });
  return { models, datasourceProvider };
}

/** 1-based line/col of a byte offset (prisma-schema-wasm spans are byte offsets). */
export function positionOfOffset(text: string, byteOffset: number): Position {
  const prefix = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = prefix.split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}
