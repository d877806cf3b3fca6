import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadProject } from '../../src/model/build.js';
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
});
