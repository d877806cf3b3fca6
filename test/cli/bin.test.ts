/**
 * The real executable, as `npx trackhub-gen` runs it (the compiled CLI in dist/).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const root = process.cwd();
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bin(args: string[], cwd = root): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(cwd, 'bin/trackhub-gen.mjs'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/trackhub-gen.mjs', () => {
  it('runs from source: --version, and check on the committed example', () => {
    const version = bin(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const check = bin(['check']);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('check turns red when a template changes without regenerating', () => {
    // A copy of the package whose resolver template gained a line.
    for (const part of ['bin', 'dist', 'src', 'templates', 'fixtures', 'generated-example', 'package.json', 'trackhub.config.json', 'tsconfig.json'])
      cpSync(path.join(root, part), path.join(tmp, part), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'), 'dir');
    expect(bin(['check'], tmp).status).toBe(0);
    appendFileSync(path.join(tmp, 'templates/server/resolver.ts.hbs'), '\nexport const templateChanged = true;\n');
    const check = bin(['check'], tmp);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^\+export const templateChanged = true;$/m);
    expect(check.stderr).toMatch(/server\/generated\/space\/space\.resolver\.ts \(changed\)/);
    expect(bin(['generate'], tmp).status).toBe(0);
    expect(bin(['check'], tmp).status).toBe(0);
  });
});
