/**
 * Reading a Prometheus text exposition in tests: one sample per line,
 * `name{label="value",...} number`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Metric family names (`# TYPE` lines). */
export function metricFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

/** The value of the one sample with exactly these labels (besides none), or throws. */
export function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${want}; have: ${samples.filter((s) => s.name === name).map((s) => JSON.stringify(s.labels)).join(' ') || 'none'}`);
  return found[0].value;
}

export interface PromqlSelector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/**
 * Parses a PromQL expression with the Prometheus project's own grammar
 * (@prometheus-io/lezer-promql) and returns its vector selectors; throws on a
 * syntax error. Grafana's `$__rate_interval` is replaced by `5m` first.
 */
export async function promqlSelectors(expr: string): Promise<PromqlSelector[]> {
  const { parser } = await import('@prometheus-io/lezer-promql');
  const source = expr.replace(/\$__rate_interval/g, '5m');
  const tree = parser.parse(source);
  const selectors: PromqlSelector[] = [];
  const errors: number[] = [];
  const text = (node: { from: number; to: number }) => source.slice(node.from, node.to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        const matchers = node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? [];
        selectors.push({
          metric: id ? text(id) : '',
          matchers: matchers.map((m) => ({
            label: text(m.getChild('LabelName')!),
            op: text(m.getChild('MatchOp')!),
            value: JSON.parse(text(m.getChild('StringLiteral')!)) as string,
          })),
        });
      }
    },
  });
  if (errors.length) throw new Error(`PromQL syntax error at ${errors[0]} in: ${source}`);
  return selectors;
}

/** The metric family a sample name belongs to (`x_bucket`, `x_count`, `x_sum` -> `x` when `x` is a histogram). */
export function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return families.get(base) === 'histogram' ? base : undefined;
}
