/**
 * `trackhub-gen dev`: the embedded default for a newcomer, in their project.
 *
 * 1. generates (the same plan as `generate`);
 * 2. makes a Prisma client of the schema rewritten for SQLite (or for the
 *    PostgreSQL of `--database-url`) in node_modules/.cache/trackhub-gen/dev,
 *    with Prisma's generator run in-process, and creates the tables with the
 *    bundled wasm schema engine (no native engine download);
 * 3. transpiles the generated server and that client to JavaScript there
 *    (TypeScript's transpileModule with decorator metadata, as tsc would);
 * 4. serves the generated TrackhubModule in a child process with the dev
 *    token verifier (`Bearer dev:<tenant>:<user>`), prints the URL and a
 *    sample request; `--watch` regenerates and restarts on schema changes.
 *
 * Your own PrismaClient (the schema's generator output) is left alone:
 * production keeps `prisma generate` and `prisma migrate`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { readSchema } from '../schema/read.js';
import { DevError } from './errors.js';

export { DevError };

export interface DevOptions {
  port?: string;
  databaseUrl?: string;
  watch?: boolean;
}

export interface DevIo {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
}

export interface DevContext {
  schemaPath: string;
  outDir: string;
  /** Runs `generate` (returns its exit code). */
  generate: () => Promise<number>;
}

const DEV_PEERS = ['@prisma/internals', '@prisma/client-generator-registry', '@prisma/client', '@prisma/adapter-better-sqlite3', 'better-sqlite3'];

function requireFrom(cwd: string): NodeJS.Require {
  return createRequire(path.join(cwd, 'package.json'));
}

/** Fails with the exact install line when a package `dev` needs is missing from the project. */
export function checkDevPeers(cwd: string, postgres: boolean): void {
  const req = requireFrom(cwd);
  const wanted = [...DEV_PEERS, ...(postgres ? ['@prisma/adapter-pg', 'pg'] : [])];
  const missing = wanted.filter((name) => {
    try {
      req.resolve(`${name}/package.json`);
      return false;
    } catch {
      try {
        req.resolve(name);
        return false;
      } catch {
        return true;
      }
    }
  });
  if (missing.length)
    throw new DevError(`trackhub-gen dev needs ${missing.join(', ')} in this project: npm install --save-dev ${missing.map((m) => (m.startsWith('@prisma/') ? `${m}@7.10.0` : m)).join(' ')}`);
}

async function listTs(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? path.join(rel, entry.name) : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(child);
    }
  };
  await walk('');
  return found;
}

/** Transpiles every .ts under `from` into .js under `to` (imports already carry .js, NodeNext style). */
async function transpileTree(from: string, to: string): Promise<void> {
  const { ts } = await import('ts-morph');
  for (const rel of await listTs(from)) {
    const source = await readFile(path.join(from, rel), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: rel,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        useDefineForClassFields: false,
        esModuleInterop: true,
      },
    });
    const target = path.join(to, rel.replace(/\.ts$/, '.js'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, outputText, 'utf8');
  }
}

interface Prepared {
  moduleFile: string;
  clientFile: string;
  provider: 'sqlite' | 'postgresql';
  connection: string;
}

async function prepare(ctx: DevContext, opts: DevOptions, io: DevIo): Promise<Prepared> {
  const code = await ctx.generate();
  if (code !== 0) throw new DevError('generate failed (see above); fix the schema and run dev again');
  const postgres = opts.databaseUrl !== undefined && /^postgres(ql)?:\/\//.test(opts.databaseUrl);
  checkDevPeers(io.cwd, postgres);
  const devDir = path.join(io.cwd, 'node_modules', '.cache', 'trackhub-gen', 'dev');
  const provider = postgres ? 'postgresql' : 'sqlite';
  const connection = postgres ? opts.databaseUrl! : path.resolve(io.cwd, (opts.databaseUrl ?? 'file:./.trackhub/dev.db').replace(/^file:/, ''));
  if (!postgres) await mkdir(path.dirname(connection), { recursive: true });

  const { toProviderSchema } = await import('../prisma/providers.js');
  const { ensurePrismaClient } = await import('../prisma/generate-client.js');
  const { ensureSchemaPostgres, evolveSchemaSqlite, postgresHasForeignTables } = await import('../prisma/schema-engine.js');
  const read = await readSchema(ctx.schemaPath);
  const schemaText = toProviderSchema(read.text, provider);
  const clientSrc = path.join(devDir, 'prisma', provider);
  await ensurePrismaClient({ schemaText, schemaPath: read.file, outputDir: clientSrc });
  if (postgres) {
    if (await postgresHasForeignTables(connection))
      throw new DevError(
        '--database-url points at a PostgreSQL database whose tables dev did not create; dev drops and recreates its database when the schema changes, so give it an empty database of its own (e.g. createdb myapp_dev)',
      );
    const created = await ensureSchemaPostgres(schemaText, connection);
    io.out(`dev: PostgreSQL database ${created ? 'created from the schema (dropped and recreated: it held another schema)' : 'already matches the schema'}`);
  } else {
    const { outcome, reason } = await evolveSchemaSqlite(schemaText, connection);
    const where = path.relative(io.cwd, connection);
    const said = {
      current: 'already matches the schema',
      created: 'created from the schema',
      migrated: 'updated in place (no data lost)',
      recreated: `recreated: the change would lose data (${reason})`,
    }[outcome];
    io.out(`dev: database ${where} ${said}`);
  }

  const build = path.join(devDir, 'build');
  await mkdir(build, { recursive: true });
  await writeFile(path.join(build, 'package.json'), '{ "type": "module" }\n');
  await transpileTree(path.join(ctx.outDir, 'server'), path.join(build, 'server'));
  await transpileTree(clientSrc, path.join(build, 'prisma'));
  return {
    moduleFile: path.join(build, 'server', 'generated', 'trackhub.module.js'),
    clientFile: path.join(build, 'prisma', 'client.js'),
    provider,
    connection,
  };
}

function serve(prepared: Prepared, port: number, io: DevIo): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./dev-serve.js', import.meta.url));
  const child = spawn(process.execPath, [script], {
    cwd: io.cwd,
    env: {
      ...process.env,
      TRACKHUB_DEV_MODULE: prepared.moduleFile,
      TRACKHUB_DEV_CLIENT: prepared.clientFile,
      TRACKHUB_DEV_PROVIDER: prepared.provider,
      TRACKHUB_DEV_CONNECTION: prepared.connection,
      TRACKHUB_DEV_PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const ready = /^trackhub-dev-ready (\S+)$/m.exec(buffered);
      if (ready) {
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => process.stdout.write(c));
        const url = ready[1]!;
        io.out(`dev: GraphQL API on ${url} (dev tokens: Authorization: Bearer dev:<tenantId>:<userId>)`);
        io.out(`  try: curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer dev:t1:u1' \\`);
        io.out(`         -d '{"query":"{ syncPull(entity: \\"<Entity>\\") { items lastSyncAt hasMore } }"}'`);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new DevError(`the dev server exited (code ${code}) before it was ready`)));
  });
}

/** Runs until interrupted (or, with `--watch`, restarts on every schema change). */
export async function runDev(ctx: DevContext, opts: DevOptions, io: DevIo): Promise<number> {
  const port = opts.port === undefined ? 3000 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DevError(`--port must be a port number, not "${opts.port}"`);
  const first = await prepare(ctx, opts, io);
  let child: ChildProcess | null = null;
  let watcher: FSWatcher | null = null;
  if (opts.watch) {
    // Watching starts before the server does, so no change made once it is up is missed.
    let timer: NodeJS.Timeout | null = null;
    let running = Promise.resolve();
    const restart = (): void => {
      running = running.then(async () => {
        io.out('dev: schema changed, regenerating');
        try {
          const prepared = await prepare(ctx, opts, io);
          if (child) await stop(child);
          child = await serve(prepared, port, io);
        } catch (err) {
          io.err(`dev: ${(err as Error).message} (still serving the previous version)`);
        }
      });
    };
    watcher = watch(ctx.schemaPath, { recursive: existsSync(ctx.schemaPath) && !ctx.schemaPath.endsWith('.prisma') }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(restart, 200);
    });
    io.out(`dev: watching ${path.relative(io.cwd, ctx.schemaPath)}`);
  }
  child = await serve(first, port, io);
  await new Promise<void>((resolve) => {
    const end = (): void => {
      watcher?.close();
      void (child ? stop(child) : Promise.resolve()).then(resolve);
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    if (!opts.watch) child?.once('exit', () => resolve());
  });
  return 0;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
