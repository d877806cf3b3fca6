/**
 * Line layout for emitted TypeScript, the way prettier lays it out (printWidth 100,
 * single quotes, trailing commas): a list goes on one line when that line fits in 100
 * columns, otherwise one item per line. Emitters that lay out every variable-length
 * line with these helpers emit text in its final format, and the plan does not run
 * prettier on it (`EmittedFile.formatted`; test/plan/preformatted.test.ts formats
 * such output again and expects no change).
 */
export const PRINT_WIDTH = 100;

const pad = (n: number): string => ' '.repeat(n);

export interface ListLayout {
  /** Columns before `open` on its line. */
  indent: number;
  /** Text before the items, e.g. `import {` or `extends CrudService<`. */
  open: string;
  /** Text after the items, e.g. `} from './x.js';` or `> {`. */
  close: string;
  items: readonly string[];
  /** `{ a, b }` (true) or `<a, b>` (false). */
  spaced?: boolean;
  /** A trailing comma after the last item when broken (default true; type arguments: false). */
  trailingComma?: boolean;
}

/** `open items close` on one line if it fits, else one item per line. No leading indent in the result. */
export function fitList(l: ListLayout): string {
  const inner = l.spaced === false ? '' : ' ';
  if (l.items.length === 0) return `${l.open}${l.close}`;
  const flat = `${l.open}${inner}${l.items.join(', ')}${inner}${l.close}`;
  if (l.indent + flat.length <= PRINT_WIDTH) return flat;
  const last = l.items.length - 1;
  const lines = l.items.map((item, i) => `${pad(l.indent + 2)}${item}${i < last || l.trailingComma !== false ? ',' : ''}`);
  return `${l.open}\n${lines.join('\n')}\n${pad(l.indent)}${l.close}`;
}

/** `import { A, B } from 'x';` (or `import type`), sorted by the caller, laid out like prettier. */
export function importLine(names: readonly string[], from: string, typeOnly = false): string {
  return fitList({ indent: 0, open: typeOnly ? 'import type {' : 'import {', close: `} from '${from}';`, items: names });
}

/** A string as prettier prints it with singleQuote: single quotes unless that needs more escapes. */
export function quote(value: string): string {
  const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  if (value.includes("'") && !value.includes('"')) return `"${body}"`;
  return `'${body.replace(/'/g, "\\'")}'`;
}

/** Code inserted into a literal as it is (an identifier, a call): never broken. */
export class Code {
  constructor(readonly text: string) {}
}

type Value = unknown;

/** Flat texts of the objects and arrays being printed: each is measured once, not once per level. */
const flatCache = new WeakMap<object, string>();

function flat(value: Value): string {
  if (value instanceof Code) return value.text;
  if (typeof value === 'object' && value !== null) {
    let text = flatCache.get(value);
    if (text === undefined) flatCache.set(value, (text = flatUncached(value)));
    return text;
  }
  return flatUncached(value);
}

function flatUncached(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(flat).join(', ')}]`;
  const entries = members(value);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${flat(v)}`).join(', ')} }`;
}

function members(value: Value): [string, Value][] {
  return Object.entries(value as Record<string, Value>).filter(([, v]) => v !== undefined);
}

const isObject = (v: Value): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Code);

/** prettier breaks an array of two or more objects (or arrays) that each have more than one member. */
function mustBreak(value: Value[]): boolean {
  if (value.length < 2) return false;
  if (value.every((v) => isObject(v) && members(v).length > 1)) return true;
  return value.every((v) => Array.isArray(v) && v.length > 1);
}

/**
 * A JavaScript value literal laid out like prettier, on a line indented by `indent`
 * where `before` columns of other text (e.g. `key: `) precede it and `suffix` follows
 * it (`,` in a list, `;` after a declaration). Objects and arrays that do not fit are
 * broken one member per line, recursively; `undefined` members are left out.
 */
export function printLiteral(value: Value, indent: number, before = 0, suffix = ''): string {
  return print(value, indent + before, indent, suffix);
}

function print(value: Value, column: number, indent: number, suffix: string): string {
  const one = flat(value);
  const breakable = Array.isArray(value) ? value.length > 0 : isObject(value) && members(value).length > 0;
  if (!breakable) return one;
  if (column + one.length + suffix.length <= PRINT_WIDTH && !(Array.isArray(value) && mustBreak(value))) return one;
  const inner = indent + 2;
  const lines = Array.isArray(value)
    ? value.map((v) => `${pad(inner)}${print(v, inner, inner, ',')},`)
    : members(value).map(([k, v]) => `${pad(inner)}${member(k, v, inner)},`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${lines.join('\n')}\n${pad(indent)}${close}`;
}

/** `key: value` as an object member on a line indented by `indent` (followed by `,`). */
export function printProperty(key: string, value: Value, indent: number): string {
  return member(key, value, indent);
}

function member(key: string, value: Value, indent: number): string {
  const head = `${key}: `;
  const text = print(value, indent + head.length, indent, ',');
  // A string that does not fit after its key moves to the next line (prettier's break-after-operator).
  if (typeof value === 'string' && indent + head.length + text.length + 1 > PRINT_WIDTH) return `${key}:\n${pad(indent + 2)}${text}`;
  return head + text;
}

/**
 * JSON as prettier's `json` parser prints `JSON.stringify(value, null, 2)`: objects stay
 * broken (prettier keeps an object broken when its first member starts a new line), an
 * array of plain values goes on one line when that fits. Ends with a newline.
 */
export function printJson(value: unknown): string {
  return `${json(value, 0, 0, '')}\n`;
}

/** `value` on a line indented by `indent`, starting at `column`, followed by `suffix`. */
function json(value: unknown, indent: number, column: number, suffix: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = pad(indent + 2);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const flatText = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (column + flatText.length + suffix.length <= PRINT_WIDTH) return flatText;
      // prettier fills arrays of numbers several to a line; nothing emitted here has a long one.
      if (value.every((v) => typeof v === 'number')) throw new Error('printJson: a long array of numbers is not supported');
    }
    const last = value.length - 1;
    return `[\n${value.map((v, i) => `${inner}${json(v, indent + 2, indent + 2, i < last ? ',' : '')}`).join(',\n')}\n${pad(indent)}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const last = entries.length - 1;
  const members = entries.map(([k, v], i) => {
    const key = `${JSON.stringify(k)}: `;
    return `${inner}${key}${json(v, indent + 2, indent + 2 + key.length, i < last ? ',' : '')}`;
  });
  return `{\n${members.join(',\n')}\n${pad(indent)}}`;
}
