/**
 * The annotation grammar (PRODUCT.md), in `///` doc comments:
 *
 *   model:  @sync
 *           @sync(tenant: "workspaceId", conflict: "serverWins")
 *           @sync(scope: "task.project")   (partial sync: the path of relations to the scope root)
 *   field:  @sync.ignore | @sync.readonly | @sync.media
 *
 * Any other `@sync...` annotation, option or value is an error.
 */
import type { ConflictStrategy, SyncAccess } from '../contract/index.js';
import type { Diagnostic } from './diagnostics.js';
import type { DocLine } from './locate.js';

export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = [
  'timestamp',
  'serverWins',
  'clientWins',
  'merge',
  'manual',
];
const MODEL_OPTIONS = ['tenant', 'conflict', 'scope'] as const;
const FIELD_ANNOTATIONS: Record<string, SyncAccess> = {
  '@sync.ignore': 'ignore',
  '@sync.readonly': 'readonly',
  '@sync.media': 'media',
};

export interface ModelAnnotation {
  tenant?: string;
  conflict?: ConflictStrategy;
  /** `scope: "task.project"`: relation field names from this model to the scope root, with where the value starts (for errors). */
  scope?: { path: string[]; location: { line: number; col: number } };
  line: DocLine;
}

function diag(file: string, doc: DocLine, offset: number, rule: string, message: string, fix: string): Diagnostic {
  return { location: { file, line: doc.line, col: doc.textCol + offset }, rule, message, fix };
}

/**
 * Our annotation tokens: `@sync` and `@sync.<word>`. Everything else in a doc
 * comment (`@zod.import(...)`, `@HideField()`, `@TypeGraphQL.omit`, prose) belongs
 * to other tools or to people and is left alone.
 */
function annotationTokens(doc: DocLine): { token: string; offset: number }[] {
  const out: { token: string; offset: number }[] = [];
  const re = /(?<![\w.@])@sync(?:\.[\w.]*)?(?![\w])/g;
  for (let m = re.exec(doc.text); m; m = re.exec(doc.text)) out.push({ token: m[0], offset: m.index });
  return out;
}

/** Parse a model's doc lines; returns undefined when the model is not annotated. */
export function parseModelAnnotation(
  file: string,
  modelName: string,
  docs: DocLine[],
  diagnostics: Diagnostic[],
): ModelAnnotation | undefined {
  let found: ModelAnnotation | undefined;
  for (const doc of docs) {
    for (const { token, offset } of annotationTokens(doc)) {
      if (token !== '@sync') {
        const hint = FIELD_ANNOTATIONS[token]
          ? `${token} is a field annotation: put it on a field's line, not on model ${modelName}`
          : `use @sync or @sync(tenant: "...", conflict: "...") on a model`;
        diagnostics.push(diag(file, doc, offset, 'sync/unknown-annotation', `unknown annotation ${token} on model ${modelName}`, hint));
        continue;
      }
      if (found) {
        diagnostics.push(
          diag(file, doc, offset, 'sync/duplicate-annotation', `model ${modelName} has more than one @sync annotation`, 'keep a single @sync(...) line and merge the options into it'),
        );
        continue;
      }
      found = { line: doc };
      const after = doc.text.slice(offset + token.length);
      if (!after.startsWith('(')) {
        if (after.trim() !== '' && !after.startsWith(' ')) {
          diagnostics.push(diag(file, doc, offset, 'sync/syntax', `cannot read "${doc.text}"`, 'write @sync or @sync(tenant: "tenantId", conflict: "timestamp")'));
        }
        continue;
      }
      const close = after.indexOf(')');
      if (close < 0) {
        diagnostics.push(diag(file, doc, offset, 'sync/syntax', `@sync( is not closed on model ${modelName}`, 'close the option list with ")" on the same line'));
        continue;
      }
      const body = after.slice(1, close);
      const bodyOffset = offset + token.length + 1;
      if (body.trim() === '') continue;
      let pos = 0;
      for (const part of body.split(',')) {
        const partOffset = bodyOffset + pos + (part.length - part.trimStart().length);
        pos += part.length + 1;
        const m = /^\s*([A-Za-z_]\w*)\s*:\s*"([^"]*)"\s*$/.exec(part);
        if (!m) {
          diagnostics.push(
            diag(file, doc, partOffset, 'sync/syntax', `cannot read option "${part.trim()}" of @sync on model ${modelName}`, 'write options as key: "value", separated by commas, e.g. @sync(tenant: "workspaceId", conflict: "merge")'),
          );
          continue;
        }
        const [, key, value] = m;
        if (!(MODEL_OPTIONS as readonly string[]).includes(key)) {
          diagnostics.push(
            diag(file, doc, partOffset, 'sync/unknown-option', `unknown @sync option "${key}" on model ${modelName}`, `use one of: ${MODEL_OPTIONS.join(', ')}`),
          );
          continue;
        }
        if (key === 'tenant') {
          if (!/^[A-Za-z_]\w*$/.test(value)) {
            diagnostics.push(diag(file, doc, partOffset, 'sync/bad-option', `tenant "${value}" is not a field name`, 'name the tenant field, e.g. tenant: "workspaceId", or tenant: "none" for a global entity'));
          } else found.tenant = value;
        } else if (key === 'conflict') {
          if (!(CONFLICT_STRATEGIES as readonly string[]).includes(value)) {
            diagnostics.push(
              diag(file, doc, partOffset, 'sync/bad-option', `conflict "${value}" is not a strategy`, `use one of: ${CONFLICT_STRATEGIES.join(', ')}`),
            );
          } else found.conflict = value as ConflictStrategy;
        } else if (key === 'scope') {
          const path = value.split('.');
          const valueCol = doc.textCol + partOffset + part.trimStart().indexOf('"') + 1;
          if (path.some((p) => !/^[A-Za-z_]\w*$/.test(p))) {
            diagnostics.push(
              diag(file, doc, partOffset, 'sync/bad-option', `scope "${value}" is not a path of relation fields`, 'name the relation fields from this model to the scope root, separated by dots, e.g. scope: "project" or scope: "task.project"'),
            );
          } else found.scope = { path, location: { line: doc.line, col: valueCol } };
        }
      }
    }
  }
  return found;
}

export interface FieldAnnotation {
  access: SyncAccess;
  doc: DocLine;
  offset: number;
}

/** Parse a field's doc (trailing or above). Returns the access annotation if any. */
export function parseFieldAnnotations(
  file: string,
  modelName: string,
  fieldName: string,
  docs: DocLine[],
  diagnostics: Diagnostic[],
): FieldAnnotation | undefined {
  let found: FieldAnnotation | undefined;
  for (const doc of docs) {
    for (const { token, offset } of annotationTokens(doc)) {
      const access = FIELD_ANNOTATIONS[token];
      if (!access) {
        diagnostics.push(
          diag(file, doc, offset, 'sync/unknown-annotation', `unknown annotation ${token} on field ${modelName}.${fieldName}`, `use one of: ${Object.keys(FIELD_ANNOTATIONS).join(', ')}`),
        );
        continue;
      }
      if (doc.text[offset + token.length] === '(') {
        diagnostics.push(
          diag(file, doc, offset, 'sync/syntax', `${token} on field ${modelName}.${fieldName} takes no options`, `write ${token} alone`),
        );
        continue;
      }
      if (found && found.access !== access) {
        diagnostics.push(
          diag(file, doc, offset, 'sync/conflicting-annotations', `field ${modelName}.${fieldName} has both @sync.${found.access} and ${token}`, 'keep one of them'),
        );
        continue;
      }
      found = { access, doc, offset };
    }
  }
  return found;
}

/** Doc text without annotation lines (used as a description in generated code). */
export function descriptionOf(docs: DocLine[]): string | undefined {
  const text = docs
    .filter((d) => !d.text.startsWith('@'))
    .map((d) => d.text)
    .join(' ')
    .trim();
  return text || undefined;
}
