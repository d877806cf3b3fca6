import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';

const dir = 'fixtures/invalid';
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.prisma'))
  .sort();
const out = mkdtempSync(path.join(tmpdir(), 'trackhub-invalid-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file of a directory with its bytes. */
const snapshot = (root: string): Record<string, string> =>
  Object.fromEntries(listFiles(root).sort().map((f) => [f, readFileSync(path.join(root, f), 'latin1')]));

describe('broken schemas in fixtures/invalid', () => {
  it('has at least 30 cases, each with its expected errors', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const c of cases) expect(readdirSync(dir)).toContain(c.replace(/\.prisma$/, '.expected.txt'));
  });

  it.each(cases)('%s: exits 2 with file:line:col, the rule and the fix, and writes nothing', async (file) => {
    const expected = readFileSync(path.join(dir, file.replace(/\.prisma$/, '.expected.txt')), 'utf8').trimEnd();
    const target = path.join(out, file);
    const run = await runCli(['generate', '--schema', path.join(dir, file), '--out', target]);
    expect(run.code).toBe(2);
    // Every expected diagnostic, in order, and nothing else.
    const reported = run.stderr.split('\n').filter((l) => !/^\d+ schema error/.test(l)).join('\n');
    expect(reported).toBe(expected);
    expect(expected).toMatch(/^fixtures\/invalid\/[\w-]+\.prisma:\d+:\d+ error \[[\w/-]+\] .+\n {2}fix: .+/);
    expect(run.stderr).toMatch(/schema error\(s\); nothing was written/);
    expect(() => readdirSync(target)).toThrow(/ENOENT/);
  });

  it('a broken schema leaves an existing output exactly as it was (every case)', async () => {
    const previous = path.join(out, 'previous-output');
    expect((await runCli(['generate', '--schema', 'fixtures/trackhub/schema.prisma', '--out', previous])).code).toBe(0);
    const before = snapshot(previous);
    for (const file of cases) {
      const run = await runCli(['generate', '--schema', path.join(dir, file), '--out', previous]);
      expect(run.code, file).toBe(2);
      expect(snapshot(previous), file).toEqual(before);
    }
  });
});
