import { describe, expect, it } from 'vitest';

import { loadProject, projectFromText } from '../../src/model/build.js';
import { SchemaError } from '../../src/schema/diagnostics.js';

describe('the intermediate model of the fixture', () => {
  it('lists @sync models parents-first, leaves other models alone', async () => {
    const project = await loadProject('fixtures/trackhub/schema.prisma');
    const names = project.entities.map((e) => e.name);
    expect(names).toEqual(['Space', 'Checklist', 'ChecklistItem', 'Company', 'Group', 'Hero', 'Project', 'Task', 'TaskNote']);
    expect(names).not.toContain('ProjectMember');
    expect(names).not.toContain('AuditLog');
    for (const e of project.entities)
      for (const p of e.parents) expect(names.indexOf(p), `${e.name} after ${p}`).toBeLessThan(names.indexOf(e.name));
    expect(project.enums.map((e) => e.name)).toEqual(['ChecklistStatus', 'SpaceKind']);
  });

  it('reads annotations: tenant, conflict, ignore, readonly, media, relations', async () => {
    const project = await loadProject('fixtures/trackhub/schema.prisma');
    const by = Object.fromEntries(project.entities.map((e) => [e.name, e]));
    expect(by.Company.tenantField).toBe('workspaceId');
    expect(by.Company.conflict).toBe('serverWins');
    expect(by.Company.table).toBe('companies');
    expect(by.Hero.plural).toBe('heroes');
    expect(by.ChecklistItem.conflict).toBe('merge');
    expect(by.Space.conflict).toBe('timestamp');
    const space = Object.fromEntries(by.Space.fields.map((f) => [f.name, f]));
    expect(space.internalNotes.access).toBe('ignore');
    expect(space.ownerId.access).toBe('readonly');
    expect(space.coverUrl.access).toBe('media');
    expect(space.tenantId.role).toBe('tenant');
    expect(by.Space.dataFields.map((f) => f.name)).not.toContain('internalNotes');
    expect(by.Space.dataFields.map((f) => f.name)).not.toContain('tenantId');
    const group = by.Group.fields.find((f) => f.name === 'spaceId')!;
    expect(group.relation).toEqual({ entity: 'Space', navigation: 'space', onDelete: 'Restrict' });
    // onDelete: explicit (Cascade), and Prisma's defaults: SetNull for an optional relation, Restrict for a required one.
    expect(by.ChecklistItem.fields.find((f) => f.name === 'checklistId')!.relation?.onDelete).toBe('Cascade');
    expect(by.Checklist.fields.find((f) => f.name === 'spaceId')!.relation?.onDelete).toBe('SetNull');
    expect(group.column).toBe('space_id');
    expect(by.Group.parents).toEqual(['Space']);
    expect(space.kind).toMatchObject({ kind: 'Enum', enumName: 'SpaceKind', defaultValue: 'TEAM' });
  });

  it('a global entity (tenant: "none") needs a unique clientId and no tenant field', () => {
    const text = `datasource db {\n  provider = "sqlite"\n}\n/// @sync(tenant: "none")\nmodel Tag {\n  id String @id @default(uuid())\n  clientId String? @unique\n  version Int @default(1)\n  updatedAt DateTime @updatedAt\n  deletedAt DateTime?\n  label String\n  @@index([updatedAt, id])\n}\n`;
    const project = projectFromText(text);
    expect(project.entities[0].tenantField).toBeNull();
  });

  it('reports relation cycles between @sync models', () => {
    const model = (name: string, other: string, fk: string) => `/// @sync\nmodel ${name} {\n  id String @id @default(uuid())\n  clientId String?\n  version Int @default(1)\n  updatedAt DateTime @updatedAt\n  deletedAt DateTime?\n  tenantId String\n  ${fk} String?\n  ${other.toLowerCase()} ${other}? @relation("${[name, other].sort().join('')}${fk}", fields: [${fk}], references: [id])\n  back${other} ${other}[] @relation("${[name, other].sort().join('')}${other === 'A' ? 'bId' : 'aId'}")\n  @@unique([tenantId, clientId])\n  @@index([tenantId, updatedAt, id])\n}\n`;
    const text = `datasource db {\n  provider = "sqlite"\n}\n${model('A', 'B', 'bId')}${model('B', 'A', 'aId')}`;
    expect(() => projectFromText(text)).toThrow(SchemaError);
    try {
      projectFromText(text);
    } catch (err) {
      expect((err as SchemaError).diagnostics.map((d) => d.rule)).toContain('sync/relation-cycle');
    }
  });
});
