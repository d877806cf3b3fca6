import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadProject } from '../../src/model/build.js';
import { SCOPE_MOVE_PRISMA, SYNC_CLOCK_PRISMA } from '../../src/runtime/sync-clock-model.js';
import { runCli } from '../support/cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-fix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BARE = `// Notes app
datasource db {
  provider = "sqlite"
}

/// Things to remember.
/// @sync(conflict: "merge")
model Note {
  id    String @id @default(uuid())
  body  String /// @sync.readonly
  // what the note is about
  topic String?
}

/// @sync(tenant: "workspaceId")
model Tag {
  label String @id
}

model Untouched {
  id String @id
}
`;

describe('trackhub-gen fix-schema', () => {
  it('adds the convention fields, the unique and the pull index, keeping comments and annotations', async () => {
    const schema = path.join(tmp, 'schema.prisma');
    writeFileSync(schema, BARE);
    const dry = await runCli(['fix-schema', 'Note', '--schema', schema, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^\+\s+version\s+Int\s+@default\(1\)$/m);
    expect(dry.stdout).toMatch(/^\+\s+@@unique\(\[tenantId, clientId\]\)$/m);
    expect(dry.stdout).toMatch(/dry run, nothing written/);
    expect(readFileSync(schema, 'utf8')).toBe(BARE);

    const run = await runCli(['fix-schema', 'Note', '--schema', schema]);
    expect(run.code).toBe(0);
    const fixed = readFileSync(schema, 'utf8');
    expect(fixed).toContain('// Notes app');
    expect(fixed).toContain('/// Things to remember.\n/// @sync(conflict: "merge")\nmodel Note {');
    expect(fixed).toMatch(/body\s+String\s+\/\/\/ @sync\.readonly/);
    expect(fixed).toContain('// what the note is about');
    expect(fixed).toMatch(/model Untouched \{\n {2}id String @id\n\}/);
    // Tag was not asked for: unchanged.
    expect(fixed).toContain('model Tag {\n  label String @id\n}');
    // The server's pull order, shared by every replica, added once at the end.
    expect(fixed).toMatch(/model TrackhubSyncClock \{\n {2}scope String {3}@id\n {2}stamp DateTime\n\n {2}@@map\("trackhub_sync_clock"\)\n\}\n$/);
    expect(run.stdout).toMatch(/TrackhubSyncClock/);

    // Idempotent: a second run adds nothing.
    const again = await runCli(['fix-schema', 'Note', '--schema', schema]);
    expect(again.stdout).toMatch(/nothing to add/);
    expect(readFileSync(schema, 'utf8')).toBe(fixed);
  });

  it('adds the scope move log once a model is synced by scope, and the result generates', async () => {
    const schema = path.join(tmp, 'scoped.prisma');
    const text = `datasource db {
  provider = "sqlite"
}

/// @sync
model Project {
  id    String @id @default(uuid())
  name  String
  tasks Task[]
}

/// @sync(scope: "project")
model Task {
  id        String  @id @default(uuid())
  projectId String
  project   Project @relation(fields: [projectId], references: [id], onDelete: Cascade)
}
`;
    writeFileSync(schema, text);
    const run = await runCli(['fix-schema', '--schema', schema]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/TrackhubScopeMove/);
    const fixed = readFileSync(schema, 'utf8');
    expect(fixed.endsWith(`\n\n${SCOPE_MOVE_PRISMA}`)).toBe(true);
    expect(fixed.split('model TrackhubScopeMove').length).toBe(2);
    const project = await loadProject(schema);
    expect(project.entities.find((e) => e.name === 'Task')?.scope).toEqual({ root: 'Project', hops: [{ relation: 'project', field: 'projectId', target: 'Project' }] });
    // Without a scoped model, no log.
    writeFileSync(schema, text.replace('/// @sync(scope: "project")', '/// @sync'));
    await runCli(['fix-schema', '--schema', schema]);
    expect(readFileSync(schema, 'utf8')).not.toContain('TrackhubScopeMove');
  });

  it('fixes every @sync model; what additions cannot fix is reported with exit 2', async () => {
    const schema = path.join(tmp, 'all.prisma');
    writeFileSync(schema, BARE);
    const run = await runCli(['fix-schema', '--schema', schema]);
    // Tag's id is `label String @id`: the wrong shape is left for the user.
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/manual change/);
    expect(run.stderr).toMatch(/all\.prisma:\d+:\d+ error \[sync\/missing-id\]|error \[sync\/id-shape\]/);
    const fixed = readFileSync(schema, 'utf8');
    expect(fixed).toMatch(/workspaceId\s+String/);
    expect(fixed).toMatch(/@@index\(\[workspaceId, updatedAt\]\)/);

    // With Tag given a proper id, the schema now builds.
    writeFileSync(schema, fixed.replace(/label\s+String\s+@id/, 'label String\n  id String @id @default(uuid())'));
    const project = await loadProject(schema);
    expect(project.entities.map((e) => e.name).sort()).toEqual(['Note', 'Tag']);
  });

  it('an unknown model name is a usage error with a suggestion', async () => {
    const schema = path.join(tmp, 'typo.prisma');
    writeFileSync(schema, BARE);
    const run = await runCli(['fix-schema', 'Note2', '--schema', schema]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Did you mean "Note"\?/);
  });

  it('keeps every other byte of the file, adds columns that suit tables with rows, and prints the tenant backfill SQL', async () => {
    const schema = path.join(tmp, 'rows.prisma');
    const original = `datasource db {
    provider = "postgresql"
    url = env("DATABASE_URL")
}

// odd   spacing   stays
model Team {
  id Int @id @default(autoincrement())
  name    String   // a comment
  users User[]
}
model User {
  id String @id @default(cuid())
  teamId Int
  team Team @relation(fields: [teamId], references: [id])
}

/// @sync(tenant: "teamId")
model Link {
  id        String   @id @default(cuid())
  url       String
  createdOn DateTime @default(now())
}
`;
    writeFileSync(schema, original);
    const run = await runCli(['fix-schema', '--schema', schema]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const fixed = readFileSync(schema, 'utf8');
    // Only lines were added: dropping them gives back the original byte for byte.
    const added = ['  clientId  String?', '  version   Int      @default(1)', '  updatedAt DateTime @default(now()) @updatedAt', '  deletedAt DateTime?', '  teamId    Int', '', '  @@unique([teamId, clientId])', '  @@index([teamId, updatedAt, id])'];
    // The server's sync clock model is appended once, after everything else.
    expect(fixed.endsWith(`\n\n${SYNC_CLOCK_PRISMA}`)).toBe(true);
    const lines = fixed.slice(0, fixed.length - SYNC_CLOCK_PRISMA.length - 1).split('\n');
    const at = lines.indexOf(added[0]);
    expect(lines.slice(at, at + added.length)).toEqual(added);
    expect([...lines.slice(0, at), ...lines.slice(at + added.length)].join('\n')).toBe(original);
    // The tenant's type follows the other models' teamId (Int), and the SQL to fill existing rows is printed.
    expect(run.stdout).toContain('UPDATE "Link" SET "teamId" = <tenant id of these rows> WHERE "teamId" IS NULL;');
    expect(run.stdout).toContain('ALTER TABLE "Link" ALTER COLUMN "teamId" SET NOT NULL;');
    expect(run.stdout).not.toMatch(/nothing (was )?written/);
    // And the result generates.
    expect((await loadProject(schema)).entities.map((e) => [e.name, e.tenantField, e.tenantKind])).toEqual([['Link', 'teamId', 'Int']]);
  });

  it('what is left after writing is reported without claiming nothing was written', async () => {
    const schema = path.join(tmp, 'left.prisma');
    writeFileSync(schema, BARE);
    const run = await runCli(['fix-schema', '--schema', schema]);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/nothing was written/);
    expect(run.stderr).toMatch(/fix-schema: 1 problem\(s\) need a manual change \(the additions above were written to .*left\.prisma\)/);
    expect(readFileSync(schema, 'utf8')).not.toBe(BARE);
  });

  it('a model that is its own tenant (tenant: "id") gets a schema Prisma accepts', async () => {
    const schema = path.join(tmp, 'self.prisma');
    writeFileSync(schema, `datasource db {\n  provider = "sqlite"\n}\n\n/// @sync(tenant: "id")\nmodel Team {\n  id   String @id\n  name String\n}\n`);
    const run = await runCli(['fix-schema', '--schema', schema]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const fixed = readFileSync(schema, 'utf8');
    expect(fixed).toMatch(/@@unique\(\[clientId\]\)/);
    expect(fixed).toMatch(/@@index\(\[updatedAt, id\]\)/);
    const project = await loadProject(schema);
    expect(project.entities[0]).toMatchObject({ name: 'Team', tenantField: 'id', serverMintsId: true });
  });

  it('a schema folder: each model is fixed in its own file', async () => {
    const dir = path.join(tmp, 'folder');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'schema.prisma'), 'datasource db {\n  provider = "sqlite"\n}\n');
    writeFileSync(path.join(dir, 'note.prisma'), '/// @sync\nmodel Note {\n  id   String @id @default(uuid())\n  body String\n}\n');
    const run = await runCli(['fix-schema', '--schema', dir]);
    expect(run.stderr).toBe('');
    expect(readFileSync(path.join(dir, 'schema.prisma'), 'utf8')).toBe('datasource db {\n  provider = "sqlite"\n}\n');
    expect(readFileSync(path.join(dir, 'note.prisma'), 'utf8')).toMatch(/tenantId +String\n\n {2}@@unique\(\[tenantId, clientId\]\)/);
    expect((await loadProject(dir)).entities.map((e) => e.name)).toEqual(['Note']);
  });
});
