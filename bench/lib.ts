/**
 * Shared helpers for the benchmarks: child processes, results, PostgreSQL databases.
 * Workers print one line `@@RESULT <json>` (plus `@@READY <url>` for servers).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
export const BENCH = path.join(REPO, 'bench');
/** The loader the generated server needs (decorator metadata). */
export const SWC = ['--conditions=trackhub-source', '--import', '@swc-node/register/esm-register'];
export const TSX = ['--conditions=trackhub-source', '--import', 'tsx'];
/**
 * Workers as users run the package: plain `node` on compiled JavaScript, no TypeScript
 * loader in the measured process (the swc loader alone holds ~120 MB of the peak RSS).
 * `buildCompiledBench()` first: the package's `dist/` (what `trackhub-gen/runtime/*`
 * resolves to without the `trackhub-source` condition) and `bench/` with the generated
 * example compiled by tsc into `.cache/bench-js`.
 */
export const JS: string[] = [];
export const BENCH_JS = path.join(REPO, '.cache', 'bench-js');

/** Builds the package and compiles the bench and the generated example (see JS); throws on failure. */
export function buildCompiledBench(): void {
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  run([tsc, '-p', 'tsconfig.build.json']);
  run([path.join(REPO, 'scripts', 'precompile-templates.mjs')]);
  // Emit only: the bench is type-checked against the sources, and its JS runs on dist/.
  // Its relative imports of src/ (bench/server.ts) go to dist/ too, through a link put in
  // place after the emit (one copy of each module, and paths relative to the repository hold).
  const src = path.join(BENCH_JS, 'src');
  rmSync(src, { recursive: true, force: true });
  try {
    run([tsc, '-p', 'bench/tsconfig.json', '--noEmit', 'false', '--outDir', BENCH_JS, '--rootDir', '.', '--noEmitOnError', 'false', '--sourceMap', 'false']);
  } catch (error) {
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    // tsc exits non-zero on type errors but still emits; a missing file is a real failure.
    if (!/error TS/.test(out)) throw error;
  }
  rmSync(src, { recursive: true, force: true });
  symlinkSync(path.join(REPO, 'dist'), src, 'dir');
}

/** The file a worker runs: the compiled one for JS, else the TypeScript source. */
function workerFile(loader: string[], script: string): string {
  if (loader !== JS) return path.resolve(BENCH, script);
  return path.join(BENCH_JS, 'bench', path.basename(script).replace(/\.ts$/, '.js'));
}

export function result(value: Record<string, unknown>): void {
  const ru = process.resourceUsage();
  process.stdout.write(`@@RESULT ${JSON.stringify({ ...value, maxRssMb: +(ru.maxRSS / 1024).toFixed(1) })}\n`);
}

export interface WorkerResult {
  ok: boolean;
  wallMs: number;
  value?: any;
  error?: string;
}

/** Runs `node <loader> bench/<script> args...`; returns the parsed @@RESULT line and the wall time. */
export function runWorker(loader: string[], script: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // BENCH_WORKER_CPU_PROF=<dir>: every measured worker writes a CPU profile there.
    const prof = process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, ...loader, workerFile(loader, script), ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const line = (out + '\n' + err).split('\n').find((l) => l.startsWith('@@RESULT '));
      if (code === 0 && line) resolve({ ok: true, wallMs, value: JSON.parse(line.slice(9)) });
      else {
        const lines = (err || out).trim().split('\n').filter((l) => !l.includes('🍉'));
        const first = lines.findIndex((l) => /Error|error:/.test(l));
        const picked = first >= 0 ? lines.slice(first, first + 4) : lines.slice(-6);
        resolve({ ok: false, wallMs, error: `exit ${code ?? signal}: ${picked.map((l) => l.trim()).join(' | ').slice(0, 600)}` });
      }
    });
  });
}

export interface ServerHandle {
  url: string;
  child: ChildProcess;
  /** What the worker printed as `@@SEEDED <json>` before it was ready (null when it printed none). */
  seeded: any;
  /** Sends one line to the worker's stdin; resolves with its next `@@ANSWER <json>` line. */
  ask(command: string): Promise<any>;
  stop(): Promise<any>;
}

/** Starts bench/server-worker.ts in its own process; resolves when it prints @@READY. */
export function startServerProcess(args: string[]): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    // BENCH_SERVER_CPU_PROF=<dir>: the server process writes a CPU profile there when it stops.
    const prof = process.env.BENCH_SERVER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, ...JS, workerFile(JS, 'server-worker.ts'), ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let ready = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /@@READY (\S+)/.exec(out);
      if (m && !ready) {
        ready = true;
        const seededLine = out.split('\n').find((l) => l.startsWith('@@SEEDED '));
        let answered = out.length;
        resolve({
          url: m[1]!,
          child,
          seeded: seededLine ? JSON.parse(seededLine.slice(9)) : null,
          ask: (command) =>
            new Promise((res, rej) => {
              const from = answered;
              const onData = () => {
                const at = out.indexOf('@@ANSWER ', from);
                const end = at >= 0 ? out.indexOf('\n', at) : -1;
                if (end < 0) return;
                child.stdout!.off('data', onData);
                child.off('exit', onExit);
                answered = end + 1;
                res(JSON.parse(out.slice(at + 9, end)));
              };
              const onExit = () => rej(new Error(`server worker exited before answering ${command}`));
              child.stdout!.on('data', onData);
              child.once('exit', onExit);
              child.stdin!.write(`${command}\n`);
            }),
          stop: () =>
            new Promise((res) => {
              child.on('exit', () => {
                const line = out.split('\n').find((l) => l.startsWith('@@RESULT '));
                res(line ? JSON.parse(line.slice(9)) : null);
              });
              child.stdin!.end(); // the worker exits when stdin closes
            }),
        });
      }
    });
    child.on('exit', (code) => {
      if (!ready) reject(new Error(`server worker exited ${code}: ${err.trim().split('\n').slice(-8).join(' | ')}`));
    });
  });
}

export const DEFAULT_PG_URL = 'postgresql://trackhub:trackhub@127.0.0.1:5432/trackhub';
export function pgAdminUrl(): string {
  return process.env.TRACKHUB_PG_URL || DEFAULT_PG_URL;
}

/** null when PostgreSQL answers, else the reason. */
export async function pgUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: pgAdminUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL not reachable at ${pgAdminUrl().replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message}); start it with scripts/start-postgres.sh`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops and creates `trackhub_bench_<name>`; returns its URL. */
export async function freshBenchDatabase(name: string): Promise<string> {
  const db = `trackhub_bench_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${db}"`);
        break;
      } catch (error) {
        if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
        await new Promise((r) => setTimeout(r, 200 + attempt * 100));
      }
    }
  } finally {
    await admin.end();
  }
  const u = new URL(pgAdminUrl());
  u.pathname = `/${db}`;
  return u.toString();
}

export async function dropBenchDatabase(url: string): Promise<void> {
  const db = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!db.startsWith('trackhub_bench_')) return;
  const admin = new pg.Client({ connectionString: pgAdminUrl(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const now = (): number => performance.now();
