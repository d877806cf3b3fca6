/** A place in a schema file. */
export interface SourceLocation {
  /** Path as given by the user (relative to cwd when possible). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

/** One problem found in the schema: where, which rule, and how to fix it. */
export interface Diagnostic {
  location: SourceLocation;
  /** Stable rule id, e.g. `sync/missing-version`. */
  rule: string;
  message: string;
  /** What to change, concretely. */
  fix: string;
}

/** Thrown when a schema cannot be turned into the model; carries every problem of the run. */
export class SchemaError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SchemaError';
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const { file, line, col } = d.location;
  return `${file}:${line}:${col} error [${d.rule}] ${d.message}\n  fix: ${d.fix}`;
}

export function formatWarning(d: Diagnostic): string {
  const { file, line, col } = d.location;
  return `${file}:${line}:${col} warning [${d.rule}] ${d.message}\n  fix: ${d.fix}`;
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      a.location.col - b.location.col ||
      a.rule.localeCompare(b.rule),
  );
}
