import { describe, expect, it } from 'vitest';

import { ClientMigrationError, nextClientSchema, type TableSnapshot } from '../../src/emitters/client/schema-snapshot.js';

const v1: TableSnapshot[] = [
  { name: 'spaces', columns: [{ name: 'name', type: 'string' }, { name: 'position', type: 'number' }] },
  { name: 'operation_queue', columns: [{ name: 'entity', type: 'string', isIndexed: true }] },
];

describe('client schema snapshots', () => {
  it('starts at version 1 with no migrations, and an unchanged schema keeps its version', () => {
    const first = nextClientSchema(v1);
    expect(first.version).toBe(1);
    expect(first.migrations).toEqual([]);
    expect(first.tables.map((t) => t.name)).toEqual(['operation_queue', 'spaces']);
    expect(nextClientSchema(v1, first)).toBe(first);
  });

  it('a new column bumps the version with an addColumns step (optional, so existing rows stay valid)', () => {
    const first = nextClientSchema(v1);
    const next = nextClientSchema([{ ...v1[0], columns: [...v1[0].columns, { name: 'emoji', type: 'string' }] }, v1[1]], first);
    expect(next.version).toBe(2);
    expect(next.migrations).toEqual([{ toVersion: 2, steps: [{ type: 'add_columns', table: 'spaces', columns: [{ name: 'emoji', type: 'string', isOptional: true }] }] }]);
  });

  it('a new table is a createTable step; steps accumulate across versions', () => {
    const first = nextClientSchema(v1);
    const second = nextClientSchema([...v1, { name: 'tags', columns: [{ name: 'label', type: 'string' }] }], first);
    const third = nextClientSchema([...v1, { name: 'tags', columns: [{ name: 'label', type: 'string' }, { name: 'color', type: 'string' }] }], second);
    expect(third.version).toBe(3);
    expect(third.migrations.map((m) => [m.toVersion, m.steps.map((s) => s.type)])).toEqual([
      [2, ['create_table']],
      [3, ['add_columns']],
    ]);
  });

  it('a removed field keeps its column (retired), so no device loses data and no step is needed', () => {
    const first = nextClientSchema(v1);
    const next = nextClientSchema([{ name: 'spaces', columns: [{ name: 'name', type: 'string' }] }, v1[1]], first);
    expect(next.version).toBe(1);
    expect(next.tables.find((t) => t.name === 'spaces')!.columns.map((c) => c.name)).toEqual(['name', 'position']);
  });

  it('a type change is refused with the reason and the way forward', () => {
    const first = nextClientSchema(v1);
    const change = () => nextClientSchema([{ name: 'spaces', columns: [{ name: 'name', type: 'string' }, { name: 'position', type: 'string' }] }, v1[1]], first);
    expect(change).toThrow(ClientMigrationError);
    expect(change).toThrow(/spaces\.position changes type from number to string/);
    expect(change).toThrow(/add a new one/);
  });
});
