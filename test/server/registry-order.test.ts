/**
 * The order a delete locks its children's sync scopes in (EntityRegistry.descendantsOf):
 * parents before children in one order shared by every write, so two transactions never
 * wait for each other in a circle; relations' onDelete defaults like Prisma's.
 */
import { describe, expect, it } from 'vitest';

import type { EntityDescriptor, FieldDescriptor } from '../../src/runtime/server/descriptor.js';
import { EntityRegistry, onDeleteOf } from '../../src/runtime/server/registry.js';

const fk = (name: string, entity: string, extra: Partial<FieldDescriptor> = {}): FieldDescriptor => ({
  name,
  kind: 'String',
  optional: false,
  hasDefault: false,
  access: 'synced',
  relation: { entity, delegate: entity.toLowerCase(), tenantField: 'tenantId' },
  ...extra,
});
const entity = (name: string, fields: FieldDescriptor[]): EntityDescriptor => ({
  name,
  delegate: name.toLowerCase(),
  table: name.toLowerCase(),
  tenantField: 'tenantId',
  conflict: 'timestamp',
  tombstone: 'deletedAt',
  tombstoneField: 'deletedAt',
  serverFields: [],
  fields,
});

describe('EntityRegistry: dependents and lock order', () => {
  // A -> B -> C and A -> C (a diamond), Z unrelated; listed out of order on purpose.
  const registry = new EntityRegistry([
    entity('C', [fk('bId', 'B'), fk('aId', 'A', { optional: true })]),
    entity('Z', []),
    entity('B', [fk('aId', 'A', { relation: { entity: 'A', delegate: 'a', tenantField: 'tenantId', onDelete: 'Cascade' } })]),
    entity('A', []),
  ]);

  it('lists every entity a delete reaches, parents before children', () => {
    expect(registry.descendantsOf('A').map((d) => d.name)).toEqual(['B', 'C']);
    expect(registry.descendantsOf('B').map((d) => d.name)).toEqual(['C']);
    expect(registry.descendantsOf('C')).toEqual([]);
    expect(registry.descendantsOf('Z')).toEqual([]);
  });

  it("names each relation's action: the descriptor's, else Prisma's default (required Restrict, optional SetNull)", () => {
    expect(registry.dependentsOf('A').map((x) => [x.child.name, x.field.name, x.action]).sort()).toEqual([
      ['B', 'aId', 'Cascade'],
      ['C', 'aId', 'SetNull'],
    ]);
    expect(onDeleteOf(fk('bId', 'B'))).toBe('Restrict');
  });

  it('a self-relation is its own dependent and adds nothing to lock', () => {
    const folders = new EntityRegistry([entity('Folder', [fk('parentId', 'Folder', { optional: true })])]);
    expect(folders.dependentsOf('Folder').map((x) => x.action)).toEqual(['SetNull']);
    expect(folders.descendantsOf('Folder')).toEqual([]);
  });

  it('refuses descriptors whose relations form a cycle (deletes could not be ordered)', () => {
    expect(() => new EntityRegistry([entity('P', [fk('qId', 'Q')]), entity('Q', [fk('pId', 'P')])])).toThrow(/cycle \(P -> Q -> P\)/);
  });
});
