/**
 * What production schemas have and the model must accept as it is: other tools'
 * annotations, Prisma 6 datasources, schema folders, relations to models without
 * @sync, Int tenants, server-stamped timestamps under any name.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadProject, projectFromText } from '../../src/model/build.js';
import { comparePositions, decodePullCursor, encodePullCursor, idFits, NULL_UPDATED_AT } from '../../src/runtime/server/cursor.js';
import { parseServerId } from '../../src/runtime/server/ids.js';
import { tenantScope } from '../../src/runtime/server/store.js';
import { SchemaError, formatDiagnostic } from '../../src/schema/diagnostics.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-real-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONVENTIONS = `  id        String    @id @default(cuid())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime  @updatedAt
  deletedAt DateTime?`;

const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SchemaError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
  return [];
};

describe('schemas as teams run them in production', () => {
  it("leaves other tools' /// annotations alone, on models with and without @sync", () => {
    const project = projectFromText(`datasource db {
  provider = "sqlite"
}

/// @zod.import(["import { x } from './x'"])
/// @TypeGraphQL.omit(output: ["password"])
model User {
  id       String @id
  /// @HideField()
  password String /// @zod.string.min(8)
}

/// A link.
/// @zod.strict()
/// @sync
model Link {
${CONVENTIONS}
  tenantId  String
  /// @property({ description: "where it points" })
  url       String /// @HideField({ output: true })

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}
`);
    expect(project.entities.map((e) => e.name)).toEqual(['Link']);
    expect(project.entities[0].description).toBe('A link.');
    expect(project.entities[0].dataFields.map((f) => [f.name, f.access])).toEqual([['url', 'synced']]);
  });

  it('still refuses an unknown @sync annotation next to them', () => {
    const errors = errorsOf(() =>
      projectFromText(`datasource db {\n  provider = "sqlite"\n}\n/// @sync\nmodel Link {\n${CONVENTIONS}\n  tenantId  String\n  url String /// @HideField() @sync.secret\n  @@unique([tenantId, clientId])\n  @@index([tenantId, updatedAt, id])\n}\n`),
    );
    expect(errors).toEqual([
      'schema.prisma:12:31 error [sync/unknown-annotation] unknown annotation @sync.secret on field Link.url\n  fix: use one of: @sync.ignore, @sync.readonly, @sync.media',
    ]);
  });

  it('accepts a Prisma 6 datasource (url, directUrl, shadowDatabaseUrl) and keeps positions right', () => {
    const head = `datasource db {\n  provider          = "postgresql"\n  url               = env("DATABASE_URL")\n  directUrl         = env("DIRECT_URL")\n  shadowDatabaseUrl = env("SHADOW_DATABASE_URL")\n}\n`;
    const ok = projectFromText(`${head}/// @sync\nmodel Link {\n${CONVENTIONS}\n  tenantId String\n  @@unique([tenantId, clientId])\n  @@index([tenantId, updatedAt, id])\n}\n`);
    expect(ok.provider).toBe('postgresql');
    // A Prisma error after the blanked lines still points at its own line.
    expect(errorsOf(() => projectFromText(`${head}model Broken {\n  id String @id\n  x  Strin\n}\n`))[0]).toMatch(/^schema\.prisma:9:6 error \[prisma\/schema\]/);
  });

  it('reads a schema folder as Prisma does; errors name the file they are in', async () => {
    const dir = path.join(tmp, 'schema');
    mkdirSync(path.join(dir, 'models'), { recursive: true });
    writeFileSync(path.join(dir, 'schema.prisma'), 'generator client {\n  provider = "prisma-client-js"\n  previewFeatures = ["prismaSchemaFolder"]\n}\n\ndatasource db {\n  provider = "sqlite"\n  url = env("DATABASE_URL")\n}\n');
    writeFileSync(path.join(dir, 'models', 'team.prisma'), 'model Team {\n  id    String @id\n  links Link[]\n}\n');
    const link = `/// @sync(tenant: "teamId")\nmodel Link {\n${CONVENTIONS}\n  teamId    String\n  team      Team @relation(fields: [teamId], references: [id])\n  url       String\n  @@unique([teamId, clientId])\n  @@index([teamId, updatedAt, id])\n}\n`;
    writeFileSync(path.join(dir, 'models', 'link.prisma'), link);
    const project = await loadProject(dir);
    expect(project.entities.map((e) => [e.name, e.tenantField, e.location.file.endsWith('models/link.prisma')])).toEqual([['Link', 'teamId', true]]);

    // A convention error and a Prisma error, each in its own file at its own line:col.
    writeFileSync(path.join(dir, 'models', 'link.prisma'), link.replace('  version   Int       @default(1)\n', ''));
    const conv = await loadProject(dir).catch((e: SchemaError) => e.diagnostics.map(formatDiagnostic));
    expect(conv).toEqual([expect.stringMatching(/models\/link\.prisma:2:1 error \[sync\/missing-version\]/)]);
    writeFileSync(path.join(dir, 'models', 'team.prisma'), 'model Team {\n  id    String @id\n  links Link[]\n  bad   Nope\n}\n');
    const prisma = await loadProject(dir).catch((e: SchemaError) => e.diagnostics.map(formatDiagnostic));
    expect(prisma).toEqual([expect.stringMatching(/models\/team\.prisma:4:9 error \[prisma\/schema\] Type "Nope" is neither a built-in type/)]);
  });

  it('a relation to a model without @sync syncs its key as a checked plain value; to the tenant model it is the scope; @sync.ignore drops it', () => {
    const project = projectFromText(`datasource db {
  provider = "postgresql"
}

model Team {
  id      Int     @id @default(autoincrement())
  users   User[]
  links   Link[]
}

model User {
  id        String  @id @default(cuid())
  teamId    Int
  team      Team    @relation(fields: [teamId], references: [id])
  links     Link[]  @relation("owner")
  edited    Link[]  @relation("editor")
}

/// @sync(tenant: "teamId")
model Link {
${CONVENTIONS}
  teamId    Int
  team      Team      @relation(fields: [teamId], references: [id])
  ownerId   String
  owner     User      @relation("owner", fields: [ownerId], references: [id])
  editorId  String?
  editor    User?     @relation("editor", fields: [editorId], references: [id]) /// @sync.ignore
  createdOn DateTime  @default(now())
  lastEdited DateTime @updatedAt
  @@unique([teamId, clientId])
  @@index([teamId, updatedAt, id])
}
`);
    const link = project.entities[0];
    expect(link.tenantKind).toBe('Int');
    const by = Object.fromEntries(link.fields.map((f) => [f.name, f]));
    expect(by.teamId.role).toBe('tenant');
    expect(by.ownerId).toMatchObject({ access: 'synced', reference: { model: 'User', delegate: 'user', key: 'id', tenantField: 'teamId' } });
    expect(by.ownerId.relation).toBeUndefined();
    expect(by.editorId.access).toBe('ignore');
    // Server-stamped under any name: never written by devices.
    expect([by.createdOn.role, by.lastEdited.role]).toEqual(['createdAt', 'createdAt']);
    expect(link.dataFields.map((f) => f.name)).toEqual(['ownerId']);
    expect(link.parents).toEqual([]);
  });

  it('a model that is its own tenant (tenant: "id")', () => {
    const project = projectFromText(`datasource db {\n  provider = "sqlite"\n}\n/// @sync(tenant: "id")\nmodel Team {\n${CONVENTIONS}\n  name String\n  @@unique([clientId])\n  @@index([updatedAt, id])\n}\n`);
    expect(project.entities[0]).toMatchObject({ tenantField: 'id', serverMintsId: false });
    expect(project.entities[0].fields.find((f) => f.name === 'id')!.role).toBe('id');
  });

  it('an optional tenant field is accepted; an Int tenant matches the token converted, and nothing for a non-integer token', () => {
    const project = projectFromText(`datasource db {\n  provider = "sqlite"\n}\n/// @sync(tenant: "orgId")\nmodel Note {\n${CONVENTIONS}\n  orgId Int?\n  @@unique([orgId, clientId])\n  @@index([orgId, updatedAt, id])\n}\n`);
    expect(project.entities[0]).toMatchObject({ tenantField: 'orgId', tenantKind: 'Int' });
    const d = { tenantField: 'orgId', tenantKind: 'Int' as const };
    expect(tenantScope(d, { tenantId: '42', userId: 'u' })).toEqual({ orgId: 42 });
    expect(tenantScope(d, { tenantId: '42abc', userId: 'u' })).toEqual({ orgId: -2147483648 });
    expect(tenantScope({ tenantField: 'orgId' }, { tenantId: '42', userId: 'u' })).toEqual({ orgId: '42' });
  });

  it('Int autoincrement ids and `updatedAt DateTime?`: keys to Int ids are opaque strings; the server parses ids back', () => {
    const int = `  id        Int       @id @default(autoincrement())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime? @updatedAt
  deletedAt DateTime?
  tenantId  String`;
    const project = projectFromText(`datasource db {\n  provider = "sqlite"\n}\n/// @sync\nmodel Member {\n${int}\n  tasks Task[] @relation("a")\n  reported Task[] @relation("r")\n  @@unique([tenantId, clientId])\n  @@index([tenantId, updatedAt, id])\n}\n/// @sync\nmodel Task {\n${CONVENTIONS}\n  tenantId String\n  assigneeId Int?\n  assignee Member? @relation("a", fields: [assigneeId], references: [id])\n  reporterId Int\n  reporter Member @relation("r", fields: [reporterId], references: [id])\n  @@unique([tenantId, clientId])\n  @@index([tenantId, updatedAt, id])\n}\n`);
    const [member, task] = project.entities;
    expect(member).toMatchObject({ name: 'Member', idKind: 'Int', updatedAtOptional: true, serverMintsId: false });
    expect(task.idKind).toBeUndefined();
    expect(task.dataFields.map((f) => [f.name, f.kind, f.relation])).toEqual([
      ['assigneeId', 'String', { entity: 'Member', navigation: 'assignee', idKind: 'Int', onDelete: 'SetNull' }],
      ['reporterId', 'String', { entity: 'Member', navigation: 'reporter', idKind: 'Int', onDelete: 'Restrict' }],
    ]);
    // The wire text of an Int id, and only that, is an id (32-bit, canonical decimal).
    expect(['10', '-3', 7, '010', '1e3', '2147483648', '', 'abc', 1.5].map((v) => parseServerId('Int', v))).toEqual([10, -3, 7, undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(['abc', '', 10].map((v) => parseServerId('String', v))).toEqual(['abc', undefined, undefined]);
    // Cursor positions compare Int ids as numbers: 9 before 10.
    expect(comparePositions({ updatedAt: 1, id: 9 }, { updatedAt: 1, id: 10 })).toBe(-1);
    expect(decodePullCursor(encodePullCursor({ updatedAt: NULL_UPDATED_AT, id: 10 }))).toEqual({ updatedAt: NULL_UPDATED_AT, id: 10, fingerprint: null, scope: null, checkedAt: null });
    expect([idFits('Int', 10), idFits('Int', '10'), idFits(undefined, 10), idFits(undefined, 'a'), idFits('Int', null)]).toEqual([true, false, false, true, true]);
  });
});
