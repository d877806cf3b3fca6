/**
 * The package as a user gets it: `npm pack`, then the tarball installed into a
 * fresh ESM project outside this repository, with the project's own NestJS
 * AppModule and a schema of its own. Then, in that project and only through
 * its node_modules:
 *
 * - `trackhub-gen init` (config, tsconfig, "type": "module", SyncModule wired
 *   into AppModule) and `fix-schema`, `generate`, `check`;
 * - `trackhub-gen dev` serves the generated API on embedded SQLite (tables
 *   created with the wasm engine) and answers push and pull;
 * - the consumer's own `tsc` builds everything against the shipped types;
 * - the built server starts with plain `node` and a real PrismaClient (from
 *   `prisma generate`, the user's path) and serves push and pull;
 * - the generated client bundles with esbuild for the browser, with no Node
 *   module in the bundle;
 * - a Node device (the built client on better-sqlite3) syncs with that server.
 *
 * One `npm install` against the registry per run (npm's cache makes repeats fast).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const repoPkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What a server + app project installs next to trackhub-gen (the README's install lines), at the versions this repo tests. */
const SERVER_PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@nestjs/platform-express',
  '@apollo/server',
  '@as-integrations/express5',
  'graphql',
  'graphql-scalars',
  'reflect-metadata',
  'rxjs',
  '@prisma/client',
  '@prisma/adapter-better-sqlite3',
  'better-sqlite3',
  '@nozbe/watermelondb',
];
const DEV_TOOLS = [
  'prisma',
  'typescript',
  '@types/node',
  '@prisma/internals',
  '@prisma/client-generator-registry',
];
const pinned = (name: string): string => `${name}@${repoPkg.devDependencies[name]!.replace(/^\^/, '')}`;

const SCHEMA = `datasource db {
  provider = "sqlite"
}

generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
}

/// @sync
model Note {
  id    String @id @default(uuid())
  title String
  done  Boolean @default(false)
}

/// @sync
model Board {
  id    String @id @default(uuid())
  name  String
  cards Card[]
}

/// A board's cards sync only to the devices subscribed to that board.
/// @sync(scope: "board")
model Card {
  id      String @id @default(uuid())
  title   String
  boardId String
  board   Board  @relation(fields: [boardId], references: [id])
}
`;

const APP_MODULE = `import { Module } from '@nestjs/common';

/** The team's own root module, with a line of its own that init must not touch. */
@Module({
  imports: [],
  providers: [],
})
export class AppModule {}
`;

const MAIN = `import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';

import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
console.log('listening ' + (await app.getUrl()));
`;

const WEB_ENTRY = `import { webAdapter } from 'trackhub-gen/runtime/client/web';

import { createClient } from './sync/client/generated/index.js';

export async function start(token: string) {
  const client = createClient({ tenantId: 't1', url: '/graphql', token, adapter: webAdapter() });
  await client.notes.create({ title: 'from the browser' });
  return client.syncAll();
}
`;

const DEVICE = `// A Node device on the built client: creates a note offline, syncs, and a second device pulls it;
// then the second device subscribes to one board and pulls that board's cards only.
import { rmSync } from 'node:fs';
import { createClient } from './dist/sync/client/generated/index.js';

const [url, dir] = process.argv.slice(2);
rmSync(dir, { recursive: true, force: true });
const a = createClient({ tenantId: 't1', url, token: 'dev:t1:a', dbDir: dir + '/a' });
const b = createClient({ tenantId: 't1', url, token: 'dev:t1:b', dbDir: dir + '/b' });
const note = await a.notes.create({ title: 'from device a' });
await a.syncAll();
await b.syncAll();
const seen = await b.notes.list();
// Partial sync: b subscribes to one of a's two boards and gets that board's cards only.
const one = await a.boards.create({ name: 'one' });
const two = await a.boards.create({ name: 'two' });
await a.cards.create({ title: 'card in one', boardId: one.id });
await a.cards.create({ title: 'card in two', boardId: two.id });
await a.syncAll();
await b.syncAll();
const cardsBefore = (await b.cards.list()).length;
await b.scopes.add('Board', (await b.boards.list()).find((x) => x.name === 'one').id);
await b.syncAll();
console.log(JSON.stringify({
  created: note.title,
  seenByB: seen.map((n) => n.title).sort(),
  boardsOfB: (await b.boards.list()).map((x) => x.name).sort(),
  cardsOfB: { before: cardsBefore, after: (await b.cards.list()).map((c) => c.title) },
  scopesOfB: (await b.scopes.list()).map((s) => s.status),
}));
await a.close();
await b.close();
`;

let tmp: string;
let project: string;
const children: ChildProcess[] = [];

async function run(cmd: string, args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(cmd, args, {
      cwd: project,
      env: { ...process.env, ...opts.env },
      timeout: opts.timeout ?? 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const trackhub = (...args: string[]) => run(process.execPath, [path.join(project, 'node_modules/trackhub-gen/bin/trackhub-gen.mjs'), ...args]);

/** Starts a process and resolves with the first line matching `ready` (its capture). */
function startUntil(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`not ready after 120 s:\n${out}\n${err}`)), 120_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready:\n${out}\n${err}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token = 'dev:t1:u1'): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const PUSH = 'mutation($items: [JSON!]!) { syncPush(entity: "Note", items: $items) { clientId id success errorCode version } }';
const PULL = '{ syncPull(entity: "Note") { items hasMore } }';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'trackhub-consumer-'));
  project = path.join(tmp, 'app');
  mkdirSync(path.join(project, 'src'), { recursive: true });
  mkdirSync(path.join(project, 'prisma'));
  await exec(NPM, ['pack', '--pack-destination', tmp], { cwd: REPO, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
  const tarball = path.join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify(
      {
        name: 'consumer-app',
        version: '1.0.0',
        private: true,
        allowScripts: { 'better-sqlite3': true, '@prisma/engines': false, prisma: false, esbuild: true },
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(path.join(project, 'prisma/schema.prisma'), SCHEMA);
  writeFileSync(path.join(project, 'src/app.module.ts'), APP_MODULE);
  writeFileSync(path.join(project, 'src/main.ts'), MAIN);
  await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...SERVER_PEERS.map(pinned)], { timeout: 540_000 });
  await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', ...DEV_TOOLS.map(pinned)], { timeout: 540_000 });
}, 1_200_000);

afterAll(async () => {
  await Promise.all(children.map(stopChild));
  // TRACKHUB_KEEP_CONSUMER=1 keeps the project for a look after a failure.
  if (tmp && process.env.TRACKHUB_KEEP_CONSUMER !== '1') rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('ships only what users need: compiled JS with types, no sources, tests or fixtures', () => {
    const installed = path.join(project, 'node_modules/trackhub-gen');
    expect(existsSync(path.join(installed, 'dist/runtime/server/index.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/runtime/client/index.d.ts'))).toBe(true);
    for (const absent of ['src', 'test', 'bench', 'fixtures', 'generated-example', 'scripts']) expect(existsSync(path.join(installed, absent)), absent).toBe(false);
  });

  it('init sets the project up, wires SyncModule into AppModule touching only those lines, and is idempotent', async () => {
    const { stdout } = await trackhub('init');
    expect(stdout).toMatch(/create\s+trackhub\.config\.json/);
    expect(stdout).toMatch(/update\s+package\.json/);
    expect(stdout).toMatch(/update\s+src\/app\.module\.ts/);
    expect(JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')).type).toBe('module');
    expect(JSON.parse(readFileSync(path.join(project, 'trackhub.config.json'), 'utf8'))).toEqual({ schema: 'prisma/schema.prisma', out: 'src/sync' });
    const appModule = readFileSync(path.join(project, 'src/app.module.ts'), 'utf8');
    expect(appModule).toContain("import { SyncModule } from './sync/server/sync.module.js';");
    expect(appModule).toMatch(/imports: \[SyncModule\]/);
    // Every line of the original file is still there, in order.
    const lines = appModule.split('\n');
    let at = 0;
    for (const line of APP_MODULE.split('\n').filter((l) => !l.includes('imports: []'))) {
      const found = lines.indexOf(line, at);
      expect(found, `kept line: ${line}`).toBeGreaterThanOrEqual(0);
      at = found;
    }
    expect(readFileSync(path.join(project, 'src/sync/server/prisma.ts'), 'utf8')).toContain("from '../../generated/prisma/client.js'");
    const again = await trackhub('init');
    expect(again.stdout).toMatch(/already set up, nothing changed/);
    expect(readFileSync(path.join(project, 'src/app.module.ts'), 'utf8')).toBe(appModule);
  });

  it('fix-schema, generate and check run from node_modules/.bin', async () => {
    await trackhub('fix-schema');
    expect(readFileSync(path.join(project, 'prisma/schema.prisma'), 'utf8')).toMatch(/clientId\s+String\?/);
    const gen = await trackhub('generate');
    expect(gen.stdout).toMatch(/3 entities generated into src\/sync/);
    expect(existsSync(path.join(project, 'src/sync/server/generated/trackhub.module.ts'))).toBe(true);
    await trackhub('check');
  });

  it('dev serves the generated API on embedded SQLite: push then pull', async () => {
    const { child, match } = await startUntil(
      [path.join(project, 'node_modules/trackhub-gen/bin/trackhub-gen.mjs'), 'dev', '--port', '0'],
      /GraphQL API on (http:\/\/\S+\/graphql)/,
    );
    const url = match[1]!;
    const pushed = await gql(url, PUSH, { items: [{ clientId: '0190a5c0-0000-7000-8000-000000000001', title: 'via dev' }] });
    expect(pushed.data.syncPush[0]).toMatchObject({ success: true, version: 1 });
    const pulled = await gql(url, PULL);
    expect(pulled.data.syncPull.items.map((i: { title: string }) => i.title)).toEqual(['via dev']);
    expect((await gql(url, PULL, {}, 'not-a-token')).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    await stopChild(child);
    expect(existsSync(path.join(project, '.trackhub/dev.db'))).toBe(true);
  });

  it('dev --watch regenerates and restarts when the schema changes', async () => {
    const { child, match } = await startUntil(
      [path.join(project, 'node_modules/trackhub-gen/bin/trackhub-gen.mjs'), 'dev', '--port', '0', '--watch'],
      /dev: watching [\s\S]*GraphQL API on (http:\/\/\S+\/graphql)/,
    );
    let out = '';
    const collect = (c: Buffer): void => {
      out += c.toString();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const schemaFile = path.join(project, 'prisma/schema.prisma');
    const before = readFileSync(schemaFile, 'utf8');
    const after = before.replace(/(\n\s*done\s+Boolean[^\n]*)/, '$1\n  priority Int?');
    expect(after).not.toBe(before);
    writeFileSync(schemaFile, after);
    const deadline = Date.now() + 120_000;
    while (!/GraphQL API on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(out, out).toMatch(/schema changed, regenerating/);
    expect(out).toMatch(/database \.trackhub\/dev\.db updated in place \(no data lost\)/);
    const url = /GraphQL API on (http:\/\/\S+\/graphql)/.exec(out)![1]!;
    expect(url).not.toBe('');
    expect(match[1]).toBeDefined();
    const pushed = await gql(url, PUSH, { items: [{ clientId: '0190a5c0-0000-7000-8000-000000000003', title: 'via watch', priority: 2 }] });
    expect(pushed.data.syncPush[0], `${JSON.stringify(pushed)}\n${out}`).toMatchObject({ success: true });
    const pulled = await gql(url, PULL);
    expect(pulled.data.syncPull.items.map((i: { title: string; priority: number | null }) => [i.title, i.priority])).toEqual([
      ['via dev', null],
      ['via watch', 2],
    ]);
    await stopChild(child);
  }, 180_000);

  it("the consumer's own tsc builds the project against the shipped types", async () => {
    await run(process.execPath, [path.join(project, 'node_modules/prisma/build/index.js'), 'generate'], { env: { PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true' } });
    await run(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(existsSync(path.join(project, 'dist/main.js'))).toBe(true);
    expect(existsSync(path.join(project, 'dist/sync/server/generated/trackhub.module.js'))).toBe(true);
  });

  it('the built server refuses to start with the dev verifier unless dev tokens are enabled, and starts with a JWT secret', async () => {
    const env = { PORT: '0', DATABASE_URL: 'file:./.trackhub/dev.db', TRACKHUB_ALLOW_DEV_TOKENS: '' };
    await expect(startUntil(['dist/main.js'], /listening (http:\/\/\S+)/, env)).rejects.toThrow(
      /Refusing to start: the token verifier accepts development tokens[\s\S]*TRACKHUB_JWT_SECRET/,
    );
    const secret = 'consumer-test-secret-of-32-bytes-or-more';
    const { child, match } = await startUntil(['dist/main.js'], /listening (http:\/\/\S+)/, { ...env, TRACKHUB_JWT_SECRET: secret });
    const url = `${match[1]!.replace('[::1]', 'localhost')}/graphql`;
    const { SignJWT } = await import('jose');
    const jwt = await new SignJWT({ tenantId: 't1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    expect((await gql(url, PULL, {}, jwt)).data.syncPull.items.length).toBeGreaterThan(0);
    expect((await gql(url, PULL, {}, 'dev:t1:u1')).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    await stopChild(child);
  });

  let serverUrl: string;
  it('the built server starts with plain node and a real PrismaClient, and serves push and pull', async () => {
    const { match } = await startUntil(['dist/main.js'], /listening (http:\/\/\S+)/, { PORT: '0', DATABASE_URL: 'file:./.trackhub/dev.db' });
    serverUrl = `${match[1]!.replace('[::1]', 'localhost')}/graphql`;
    const pushed = await gql(serverUrl, PUSH, { items: [{ clientId: '0190a5c0-0000-7000-8000-000000000002', title: 'via node' }] });
    expect(pushed.data.syncPush[0]).toMatchObject({ success: true, version: 1 });
    const pulled = await gql(serverUrl, PULL);
    expect(pulled.data.syncPull.items.map((i: { title: string }) => i.title).sort()).toEqual(['via dev', 'via node', 'via watch']);
  });

  it('a request-level database fault answers INTERNAL with no details', async () => {
    const Database = createRequire(path.join(project, 'package.json'))('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
    const db = new Database(path.join(project, '.trackhub/dev.db'));
    db.exec('ALTER TABLE "Note" RENAME TO "NoteGone"');
    try {
      const res = await gql(serverUrl, PULL);
      expect(res.errors[0].extensions.code).toBe('INTERNAL');
      expect(res.errors[0].message).toBe('Internal server error');
      expect(JSON.stringify(res)).not.toMatch(/Note|table|prisma|sqlite/i);
    } finally {
      db.exec('ALTER TABLE "NoteGone" RENAME TO "Note"');
      db.close();
    }
  });

  it('a Node device on the built client syncs with that server', async () => {
    writeFileSync(path.join(project, 'device.mjs'), DEVICE);
    const { stdout } = await run(process.execPath, ['device.mjs', serverUrl, path.join(tmp, 'devices')]);
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      created: 'from device a',
      seenByB: ['from device a', 'via dev', 'via node', 'via watch'],
      boardsOfB: ['one', 'two'],
      cardsOfB: { before: 0, after: ['card in one'] },
      scopesOfB: ['active'],
    });
  });

  it('a web app that installs only the package and WatermelonDB gets no server, Prisma or native module', async () => {
    const web = path.join(tmp, 'web');
    mkdirSync(web);
    writeFileSync(path.join(web, 'package.json'), `${JSON.stringify({ name: 'web-app', private: true, type: 'module' }, null, 2)}\n`);
    const tarball = path.join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
    const { stderr } = await exec(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, pinned('@nozbe/watermelondb')], {
      cwd: web,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const modules = path.join(web, 'node_modules');
    // graphql itself does land: GraphQL Code Generator (generate's typed operations, a CLI tool of
    // ours) needs it, and the generated operations use its types (type-only: the bundle test below
    // shows no graphql code is bundled).
    for (const absent of ['@nestjs/core', '@apollo/server', '@prisma/client', '@prisma/internals', 'prisma', 'better-sqlite3', 'pg'])
      expect(existsSync(path.join(modules, absent)), absent).toBe(false);
    // No dependency of ours needs Node 22, except one a dependency of GraphQL Code Generator pulls
    // in (@graphql-tools/utils 12 -> @whatwg-node/promise-helpers 2, engines >=22, which runs on 20:
    // this suite runs it). Any other package warning EBADENGINE fails the test.
    const badEngine = [...stderr.matchAll(/EBADENGINE\s+package: '([^']+)@/g)].map((m) => m[1]);
    expect(badEngine.filter((name) => name !== '@whatwg-node/promise-helpers')).toEqual([]);
    const lock = JSON.parse(readFileSync(path.join(web, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const count = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/')).length;
    const { stdout: du } = await exec('du', ['-sm', modules]);
    console.log(`[consumer] web app install: ${count} packages, ${du.split('\t')[0]} MB in node_modules`);
    expect(count).toBeLessThan(150);
  });

  it('the generated client bundles for the browser with esbuild, with no Node module inside', async () => {
    writeFileSync(path.join(project, 'src/web.ts'), WEB_ENTRY);
    const esbuild = (await import(createRequire(path.join(REPO, 'package.json')).resolve('esbuild'))) as typeof import('esbuild');
    const result = await esbuild.build({
      absWorkingDir: project,
      entryPoints: ['src/web.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      tsconfig: path.join(project, 'tsconfig.json'),
    });
    expect(result.errors).toEqual([]);
    const text = result.outputFiles[0]!.text;
    expect(text.length).toBeGreaterThan(10_000);
    expect(text).toContain('OfflineFirstNoteService');
    expect(text).not.toMatch(/better-sqlite3|require\(["']fs["']\)|from ["']node:/);
    expect(text).not.toContain('GraphQLSchema'); // the typed operations bring no GraphQL library into the bundle
    // The bundle evaluates (no top-level access to a Node module or global).
    const bundle = path.join(project, 'web-bundle.mjs');
    writeFileSync(bundle, text);
    const loaded = (await import(bundle)) as { start?: unknown };
    expect(typeof loaded.start).toBe('function');
  });
});
