/**
 * `trackhub-gen init` on an empty project and on a NestJS-style one: what it
 * writes, that it edits AppModule only at its imports, that a second run
 * changes nothing, and that what it cannot edit safely is a clear error.
 * The packed-tarball flow (init, then build and run) is test/package/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { prismaModuleView, wireAppModule } from '../../src/cli/init.js';
import { runCli } from '../support/cli.js';

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-init-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NEST_APP_MODULE = `import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';

import { AppController } from './app.controller.js';

// The team's comment stays.
@Module({
  imports: [ConfigModule.forRoot()],
  controllers: [AppController],
})
export class AppModule {}
`;

describe('trackhub-gen init', () => {
  it('sets up an empty npm project: config, "type": "module", tsconfig, prisma and sync modules; a second run changes nothing', async () => {
    const dir = project({ 'package.json': '{\n  "name": "empty",\n  "version": "1.0.0"\n}\n' });
    const first = await runCli(['init'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/create\s+trackhub\.config\.json/);
    expect(JSON.parse(readFileSync(path.join(dir, 'trackhub.config.json'), 'utf8'))).toEqual({ schema: 'prisma/schema.prisma', out: 'src/sync' });
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg).toEqual({ type: 'module', name: 'empty', version: '1.0.0' });
    const tsconfig = JSON.parse(readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src', emitDecoratorMetadata: true, useDefineForClassFields: false, module: 'NodeNext' });
    expect(tsconfig.compilerOptions.noEmit).toBeUndefined();
    expect(readFileSync(path.join(dir, 'src/sync/server/sync.module.ts'), 'utf8')).toContain('export const SyncModule = TrackhubModule.forRoot(');
    const snapshot = (rel: string) => readFileSync(path.join(dir, rel), 'utf8');
    const before = ['package.json', 'tsconfig.json', 'trackhub.config.json', 'src/sync/server/prisma.ts'].map(snapshot);
    const second = await runCli(['init'], dir);
    expect(second.stdout).toMatch(/already set up, nothing changed/);
    expect(['package.json', 'tsconfig.json', 'trackhub.config.json', 'src/sync/server/prisma.ts'].map(snapshot)).toEqual(before);
  });

  it('wires SyncModule into an existing AppModule, touching only its import and its imports array', async () => {
    const dir = project({
      'package.json': JSON.stringify({ name: 'api', type: 'module', dependencies: { '@nestjs/core': '12.5.1' } }),
      'tsconfig.json': '{ "compilerOptions": { "strict": true } }\n',
      'src/app.module.ts': NEST_APP_MODULE,
      'prisma/schema/schema.prisma': 'datasource db {\n  provider = "postgresql"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "../../src/db"\n}\n',
    });
    const run = await runCli(['init'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/keep\s+tsconfig\.json/);
    expect(JSON.parse(readFileSync(path.join(dir, 'trackhub.config.json'), 'utf8')).schema).toBe('prisma/schema');
    const after = readFileSync(path.join(dir, 'src/app.module.ts'), 'utf8');
    const beforeLines = NEST_APP_MODULE.split('\n');
    const afterLines = after.split('\n');
    // Exactly one line added (the import) and one line changed (the imports array).
    expect(afterLines.length).toBe(beforeLines.length + 1);
    expect(afterLines.filter((l) => !beforeLines.includes(l))).toEqual([
      "  imports: [ConfigModule.forRoot(), SyncModule],",
      "import { SyncModule } from './sync/server/sync.module.js';",
    ].sort((a, b) => afterLines.indexOf(a) - afterLines.indexOf(b)));
    expect(run.stdout).toContain("+import { SyncModule } from './sync/server/sync.module.js';");
    const prisma = readFileSync(path.join(dir, 'src/sync/server/prisma.ts'), 'utf8');
    expect(prisma).toContain("import { PrismaClient } from '../../db/client.js';");
    expect(prisma).toContain('new PrismaPg({ connectionString: process.env.DATABASE_URL })');
    expect((await runCli(['init'], dir)).stdout).toMatch(/SyncModule already wired/);
    expect(readFileSync(path.join(dir, 'src/app.module.ts'), 'utf8')).toBe(after);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const dir = project({ 'package.json': '{ "name": "x" }' });
    const run = await runCli(['init', '--dry-run'], dir);
    expect(run.stdout).toMatch(/dry run, nothing written: \d+ file\(s\) would change/);
    expect(() => readFileSync(path.join(dir, 'trackhub.config.json'))).toThrow();
    expect(readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe('{ "name": "x" }');
  });

  it('refuses without package.json, and an AppModule it cannot edit safely, with what to do', async () => {
    const none = project({});
    const run = await runCli(['init'], none);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no package\.json .*npm init -y/);
    await expect(wireAppModule('@Module(config)\nexport class AppModule {}\n', 'app.module.ts', './s.js')).rejects.toThrow(/not an object literal; add SyncModule to its imports by hand/);
    await expect(wireAppModule('export class Other {}\n', 'app.module.ts', './s.js')).rejects.toThrow(/no `@Module\(\) class AppModule` found/);
  });

  it('adds an imports array when @Module has none', async () => {
    const text = "import { Module } from '@nestjs/common';\n\n@Module({ providers: [] })\nexport class AppModule {}\n";
    const out = await wireAppModule(text, 'app.module.ts', './sync/server/sync.module.js');
    expect(out).toMatch(/@Module\(\{ imports: \[SyncModule\], providers: \[\] \}\)/);
    expect(await wireAppModule(out, 'app.module.ts', './sync/server/sync.module.js')).toBe(out);
  });

  it('picks the Prisma client import and driver adapter from the schema', () => {
    const sqlite = prismaModuleView('datasource db {\n  provider = "sqlite"\n}\ngenerator client {\n  provider = "prisma-client-js"\n}\n', '/p/prisma', '/p/src/sync/server');
    expect(sqlite.clientImport).toBe('@prisma/client');
    expect(sqlite.adapterImport).toContain('@prisma/adapter-better-sqlite3');
  });
});

describe('targets', () => {
  it('an app project (WatermelonDB, no NestJS) gets the client only; generate writes no server code there', async () => {
    const dir = project({
      'package.json': JSON.stringify({ name: 'app', type: 'module', dependencies: { '@nozbe/watermelondb': '0.28.0', 'react-native': '0.80.0' } }),
      'tsconfig.json': '{}\n',
    });
    const init = await runCli(['init', '--schema', path.resolve('fixtures/trackhub/schema.prisma')], dir);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'trackhub.config.json'), 'utf8')).targets).toEqual(['client']);
    expect(init.stdout).not.toMatch(/server\/(prisma|sync\.module)\.ts/);
    const gen = await runCli(['generate'], dir);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(/client\/generated\/index\.ts/);
    // The client target: the device code and the typed online operations (their documents in graphql/operations.graphql).
    expect(gen.stdout).not.toMatch(/ server\/| ops\/| graphql\/schema\.graphql/);
    expect((await runCli(['check'], dir)).code).toBe(0);
  });

  it('an unknown target is a config error naming the valid ones', async () => {
    const dir = project({ 'trackhub.config.json': JSON.stringify({ targets: ['client', 'android'] }) });
    const run = await runCli(['check'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/"targets" must be a non-empty array of "server", "client", "graphql", "ops"/);
  });
});
