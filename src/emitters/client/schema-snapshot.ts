/**
 * Client schema evolution. The committed snapshot (`client/schema.snapshot.json`)
 * records the device schema of every version and the steps between them. Each
 * `generate` compares the schema the model asks for with the snapshot's latest
 * version: no change keeps the version; additions (new tables, new columns) bump
 * it and append a migration step; anything WatermelonDB cannot migrate without
 * losing device data is refused with the way forward.
 *
 * Pure: (current tables, previous snapshot) -> next snapshot.
 */
import { printJson } from '../layout.js';

/** Where the client schema snapshot is written, relative to the output folder. */
export const CLIENT_SNAPSHOT_PATH = 'client/schema.snapshot.json';

export type ColumnType = 'string' | 'number' | 'boolean';

export interface ColumnSnapshot {
  name: string;
  type: ColumnType;
  isOptional?: true;
  isIndexed?: true;
}

export interface TableSnapshot {
  name: string;
  columns: ColumnSnapshot[];
}

export type MigrationStep =
  | { type: 'create_table'; table: TableSnapshot }
  | { type: 'add_columns'; table: string; columns: ColumnSnapshot[] };

export interface ClientSchemaSnapshot {
  /** Current WatermelonDB schema version. */
  version: number;
  /** The device schema at `version`, tables sorted by name. */
  tables: TableSnapshot[];
  /** Steps from version 1 up to `version`, oldest first. */
  migrations: { toVersion: number; steps: MigrationStep[] }[];
}

export class ClientMigrationError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `the device schema cannot be migrated safely:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'WatermelonDB can only add tables and columns; a device whose schema it cannot migrate is wiped, losing unsynced changes. ' +
        'Keep the old field and add a new one (copy values over in app code), or revert the change.',
    );
    this.name = 'ClientMigrationError';
  }
}

function normalize(tables: TableSnapshot[]): TableSnapshot[] {
  return [...tables]
    .map((t) => ({ name: t.name, columns: t.columns.map((c) => ({ ...c })) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The next snapshot. Columns and tables that disappear from the model stay in the
 * device schema (retired: the app stops using them, their data stays), so removing
 * a field never needs a destructive migration.
 */
export function nextClientSchema(current: TableSnapshot[], previous?: ClientSchemaSnapshot): ClientSchemaSnapshot {
  const wanted = normalize(current);
  if (!previous) return { version: 1, tables: wanted, migrations: [] };

  const problems: string[] = [];
  const steps: MigrationStep[] = [];
  const before = new Map(previous.tables.map((t) => [t.name, t]));
  const result: TableSnapshot[] = [];
  for (const table of wanted) {
    const old = before.get(table.name);
    if (!old) {
      steps.push({ type: 'create_table', table });
      result.push(table);
      continue;
    }
    const oldCols = new Map(old.columns.map((c) => [c.name, c]));
    const added: ColumnSnapshot[] = [];
    const columns: ColumnSnapshot[] = [];
    for (const col of table.columns) {
      const was = oldCols.get(col.name);
      if (!was) {
        // A column added to existing rows must accept their missing value.
        const addedCol: ColumnSnapshot = { ...col, isOptional: true };
        added.push(addedCol);
        columns.push(addedCol);
      } else if (was.type !== col.type) {
        problems.push(`${table.name}.${col.name} changes type from ${was.type} to ${col.type}`);
        columns.push(was);
      } else {
        // Optional/indexed flags only shape new databases and sanitising; keep what devices have.
        columns.push(was);
      }
    }
    const kept = new Set(table.columns.map((c) => c.name));
    for (const was of old.columns) if (!kept.has(was.name)) columns.push(was); // retired column
    if (added.length) steps.push({ type: 'add_columns', table: table.name, columns: added });
    result.push({ name: table.name, columns });
  }
  const names = new Set(wanted.map((t) => t.name));
  for (const old of previous.tables) if (!names.has(old.name)) result.push(old); // retired table
  if (problems.length) throw new ClientMigrationError(problems);
  if (steps.length === 0) return previous;
  const version = previous.version + 1;
  return { version, tables: normalize(result), migrations: [...previous.migrations, { toVersion: version, steps }] };
}

/** Snapshot file text (deterministic JSON). */
export function printSnapshot(snapshot: ClientSchemaSnapshot): string {
  return printJson(snapshot);
}

export function parseSnapshot(text: string, file: string): ClientSchemaSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); restore it from version control`);
  }
  const s = raw as ClientSchemaSnapshot;
  if (typeof s?.version !== 'number' || !Array.isArray(s.tables) || !Array.isArray(s.migrations))
    throw new Error(`${file}: not a trackhub-gen client schema snapshot; restore it from version control`);
  return s;
}
