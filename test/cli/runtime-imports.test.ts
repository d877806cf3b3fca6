/**
 * Changing `runtimeServer` cannot strand user-owned files: they import the
 * runtime through the generated `server/generated/runtime.ts`, which follows
 * the config, and `check` reports any user file still importing another
 * runtime specifier, with file:line:col and the import to use.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { strandedRuntimeImports } from '../../src/plan/runtime-imports.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-runtime-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = (extra: Record<string, string>) =>
  writeFileSync(path.join(dir, 'trackhub.config.json'), JSON.stringify({ schema: 'schema.prisma', out: 'out', ...extra }));

describe('runtime specifier of user-owned files', () => {
  it('user files follow a change of runtimeServer through the generated re-export', async () => {
    cpSync(path.resolve('fixtures/trackhub/schema.prisma'), path.join(dir, 'schema.prisma'));
    config({});
    expect((await runCli(['generate'], dir)).code).toBe(0);
    expect(readFileSync(path.join(dir, 'out/server/hooks/space.hooks.ts'), 'utf8')).toContain("from '../generated/runtime.js'");
    expect(readFileSync(path.join(dir, 'out/server/main.ts'), 'utf8')).toContain("from './generated/runtime.js'");
    expect(readFileSync(path.join(dir, 'out/server/generated/runtime.ts'), 'utf8')).toContain("export * from 'trackhub-gen/runtime/server';");

    config({ runtimeServer: '@acme/trackhub-runtime' });
    expect((await runCli(['check'], dir)).code).toBe(1); // the re-export is now stale
    expect((await runCli(['generate'], dir)).code).toBe(0);
    expect(readFileSync(path.join(dir, 'out/server/generated/runtime.ts'), 'utf8')).toContain("export * from '@acme/trackhub-runtime';");
    const check = await runCli(['check'], dir);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('check fails on a user file that still imports the old runtime, saying where and what to import instead', async () => {
    const hooks = path.join(dir, 'out/server/hooks/space.hooks.ts');
    writeFileSync(hooks, readFileSync(hooks, 'utf8').replace("'../generated/runtime.js'", "'trackhub-gen/runtime/server'"));
    const check = await runCli(['check'], dir);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(
      "out/server/hooks/space.hooks.ts:1:34: imports the runtime from 'trackhub-gen/runtime/server', which is not the configured runtime; import from '../generated/runtime.js' (or '@acme/trackhub-runtime')",
    );
    const gen = await runCli(['generate'], dir);
    expect(gen.code).toBe(0);
    expect(gen.stderr).toMatch(/warning: .*space\.hooks\.ts:1:34 imports the runtime from 'trackhub-gen\/runtime\/server'/);
  });

  it('only runtime specifiers other than the configured ones count', () => {
    const change = (before: string) => [{ path: 'server/hooks/a.hooks.ts', status: 'kept' as const, owner: 'user' as const, before }];
    const options = { runtimeServer: 'trackhub-gen/runtime/server', runtimeClient: 'trackhub-gen/runtime/client' };
    expect(strandedRuntimeImports(change("import { x } from 'trackhub-gen/runtime/server';\nimport y from 'lodash';\n"), options)).toEqual([]);
    expect(strandedRuntimeImports(change("import type { X } from '@old/runtime/server';\n"), options)).toEqual([
      { path: 'server/hooks/a.hooks.ts', line: 1, col: 24, specifier: '@old/runtime/server', fix: "'../generated/runtime.js' (or 'trackhub-gen/runtime/server')" },
    ]);
  });
});
