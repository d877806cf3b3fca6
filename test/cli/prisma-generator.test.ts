/**
 * Prisma generator mode through Prisma's own generator API (getGenerators +
 * generate, as `prisma generate` does; the prisma CLI itself needs native engines
 * this build cannot download).
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';

const require = createRequire(import.meta.url);
const root = process.cwd();
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-prisma-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


describe('generator trackhub { provider = "trackhub-gen" }', () => {
  it('prisma generate writes the same files as the CLI', async () => {
    // The provider is found on PATH, as node_modules/.bin/trackhub-gen is in a project.
    const binDir = path.join(tmp, 'bin');
    mkdirSync(binDir);
    symlinkSync(path.join(root, 'bin/trackhub-gen.mjs'), path.join(binDir, 'trackhub-gen'));
    chmodSync(path.join(root, 'bin/trackhub-gen.mjs'), 0o755);

    const schemaDir = path.join(tmp, 'prisma');
    cpSync('fixtures/trackhub', schemaDir, { recursive: true });
    const schemaFile = path.join(schemaDir, 'schema.prisma');
    const text = readFileSync(schemaFile, 'utf8').replace(
      /generator client \{[^}]*\}/,
      'generator trackhub {\n  provider = "trackhub-gen"\n  output   = "../via-prisma"\n}',
    );
    writeFileSync(schemaFile, text);

    const internals = require('@prisma/internals');
    const { defaultRegistry } = require('@prisma/client-generator-registry');
    const oldPath = process.env.PATH;
    process.env.PATH = `${binDir}${path.delimiter}${oldPath}`;
    try {
      const schemaContext = await internals.loadSchemaContext({ schemaPath: { cliProvidedPath: schemaFile }, printLoadMessage: false, cwd: schemaDir });
      const generators = await internals.getGenerators({
        schemaContext,
        registry: defaultRegistry.toInternal(),
        skipDownload: true,
        printDownloadProgress: false,
        cliCommand: 'generate',
      });
      try {
        expect(generators.map((g: { getProvider(): string }) => g.getProvider())).toEqual(['trackhub-gen']);
        for (const g of generators) await g.generate();
      } finally {
        for (const g of generators) g.stop();
      }
    } finally {
      process.env.PATH = oldPath;
    }

    const viaPrisma = path.join(tmp, 'via-prisma');
    const viaCli = path.join(tmp, 'via-cli');
    expect((await runCli(['generate', '--schema', schemaFile, '--out', viaCli])).code).toBe(0);
    const files = listFiles(viaCli).sort();
    expect(listFiles(viaPrisma).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(viaPrisma, f), 'utf8'), f).toBe(readFileSync(path.join(viaCli, f), 'utf8'));
    expect(files).toContain('server/generated/space/space.resolver.ts');
  }, 120_000);
});
