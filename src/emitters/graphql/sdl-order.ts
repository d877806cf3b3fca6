/**
 * The SDL template's output in canonical order, as graphql-js prints it after
 * `lexicographicSortSchema` (what NestJS serves with `sortSchema: true`): definitions
 * sorted by name, and inside each the fields, enum values and arguments sorted, all in
 * graphql-js's natural order (digit runs compare as numbers). It reads only the shapes
 * the template writes (an optional `"""` description, then `scalar X`, or
 * `type|input|enum X {`, one field or value per line, `}`); test/emitters/graphql.test.ts
 * checks it against graphql-js byte for byte. graphql-js itself took a third of
 * `generate`'s emitting time and is no longer loaded to emit.
 */

/** graphql-js's `naturalCompare`: "Item2" before "Item10". */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let na = 0;
      let c = ca;
      do {
        i += 1;
        na = na * 10 + c - 48;
        c = a.charCodeAt(i);
      } while (isDigit(c) && na > 0);
      let nb = 0;
      c = cb;
      do {
        j += 1;
        nb = nb * 10 + c - 48;
        c = b.charCodeAt(j);
      } while (isDigit(c) && nb > 0);
      if (na !== nb) return na < nb ? -1 : 1;
    } else {
      if (ca !== cb) return ca < cb ? -1 : 1;
      i += 1;
      j += 1;
    }
  }
  return a.length - b.length;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

interface Definition {
  name: string;
  /** The description block and the header line, as written. */
  head: string[];
  /** Field or value lines, without indentation; null for a scalar. */
  members: string[] | null;
}

const HEADER = /^(?:type|input|enum|scalar) (\w+)/;

/** The template's SDL sorted (see the header). Throws on a line it does not know. */
export function sortSdl(raw: string): string {
  const defs: Definition[] = [];
  let description: string[] = [];
  let open: Definition | null = null;
  const lines = raw.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    if (open) {
      if (line === '}') {
        defs.push(open);
        open = null;
      } else if (line.trim()) open.members!.push(line.trim());
      continue;
    }
    if (!line.trim()) continue;
    if (line === '"""') {
      const end = lines.indexOf('"""', k + 1);
      if (end < 0) throw new Error('sortSdl: unterminated description');
      description = lines.slice(k, end + 1);
      k = end;
      continue;
    }
    const m = HEADER.exec(line);
    if (!m) throw new Error(`sortSdl: unexpected line "${line}"`);
    const def: Definition = { name: m[1]!, head: [...description, line], members: line.endsWith('{') ? [] : null };
    description = [];
    if (def.members) open = def;
    else defs.push(def);
  }
  if (open) throw new Error(`sortSdl: ${open.name} is not closed`);
  defs.sort((a, b) => naturalCompare(a.name, b.name));
  return defs
    .map((d) => (d.members ? [...d.head, ...d.members.map(sortArguments).sort(byMemberName).map((m) => `  ${m}`), '}'] : d.head).join('\n'))
    .join('\n\n');
}

function memberName(member: string): string {
  return /^\w+/.exec(member)![0];
}

function byMemberName(a: string, b: string): number {
  return naturalCompare(memberName(a), memberName(b));
}

/** `f(b: X, a: Y): Z` -> `f(a: Y, b: X): Z` (no argument of the template holds a comma). */
function sortArguments(member: string): string {
  const m = /^(\w+)\((.*)\)(: .*)$/.exec(member);
  if (!m) return member;
  const args = m[2]!.split(', ').sort((a, b) => naturalCompare(memberName(a), memberName(b)));
  return `${m[1]}(${args.join(', ')})${m[3]}`;
}
