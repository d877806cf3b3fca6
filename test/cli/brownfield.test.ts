/**
 * Production-style schemas (fixtures/brownfield/), annotated with `/// @sync` lines
 * only: `fix-schema`, then `generate`, `check` and `tsc --strict` on the output, with
 * no hand edit in between.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';

// Inside the repository, so generated code resolves trackhub-gen/runtime/*.
const work = path.resolve('.cache/test-brownfield');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CASES: { name: string; schema: string; entities: string[] }[] = [
  { name: 'team-api', schema: 'schema.prisma', entities: ['Collection', 'Request'] },
  { name: 'analytics', schema: 'prisma/schema', entities: ['Website', 'Goal', 'Report'] },
  { name: 'signing', schema: 'schema.prisma', entities: ['Document', 'Recipient'] },
  // Int autoincrement ids, `updatedAt DateTime?`, two relations from Task to Member.
  { name: 'issue-tracker', schema: 'schema.prisma', entities: ['Member', 'Project', 'Task'] },
  {
    name: 'awkward-names',
    schema: 'schema.prisma',
    entities: ['APIKey', 'Database', 'Field', 'Context', 'Args', 'Injectable', 'JSON', 'Model', 'Mutation', 'Query', 'Resolver'],
  },
];

describe('production-style schemas: fix-schema, generate, check, tsc --strict, no edits', () => {
  it.each(CASES)('$name', async ({ name, schema: rel, entities }) => {
    const dir = path.join(work, name);
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join('fixtures/brownfield', name), dir, { recursive: true });
    const schema = path.join(dir, rel);
    const out = path.join(dir, 'out');
    const files = (root: string) => listFiles(root).filter((f) => f.endsWith('.prisma')).sort();
    const before = Object.fromEntries(files(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));

    const fix = await runCli(['fix-schema', '--schema', schema]);
    expect(fix.stderr).toBe('');
    expect(fix.code).toBe(0);
    // fix-schema only adds lines: every line of every file is still there, in order.
    for (const [f, text] of Object.entries(before)) {
      const now = readFileSync(path.join(dir, f), 'utf8').split('\n');
      let at = 0;
      for (const line of text.split('\n')) {
        at = now.indexOf(line, at);
        expect(at, `${f}: "${line}" kept`).toBeGreaterThanOrEqual(0);
      }
    }
    expect((await runCli(['fix-schema', '--schema', schema])).stdout).toMatch(/nothing to add/);

    const gen = await runCli(['generate', '--schema', schema, '--out', out]);
    // Warnings only (the @@unique rule for soft-deleted records), never an error.
    expect(gen.stderr.split('\n').filter((l) => l && !/ warning \[sync\/unique-keeps-deleted\] |^ {2}fix: /.test(l))).toEqual([]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain(`${entities.length} entities generated`);
    const check = await runCli(['check', '--schema', schema, '--out', out]);
    expect(check.code).toBe(0);

    // generate writes no tsconfig (init writes the project's): use the example's strict one.
    copyFileSync(path.resolve('generated-example/tsconfig.json'), path.join(out, 'tsconfig.json'));
    const tsc = spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', path.join(out, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);
});
