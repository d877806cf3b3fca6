/**
 * Generator faults: `generate` from schema v1 to v2 (a new entity and a new field:
 * 8 files created, 60 changed) that fails or dies midway. Every time, the previous
 * output stays as it was, byte for byte (after the recovery the next `generate`
 * runs first, when the process died while replacing files), and a re-run of
 * `generate` succeeds and leaves no staging files behind.
 *
 *   - output not writable: as another user on a read-only directory (tests run as
 *     root in CI, and root ignores permissions: the CLI is run as `nobody` through
 *     setpriv), a regular file where the output directory should be, and a regular
 *     file where a generated directory must go (fails midway, after staging began);
 *   - a write failing midway: injected into the write step (disk full) at the first,
 *     a middle and the last file, and into the replace step;
 *   - SIGKILL: at precise points (test-only hook TRACKHUB_TEST_PAUSE_AT: while staging,
 *     while replacing, right after the commit point) and after random delays.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { applyChanges, comparePlan, JOURNAL_NAME, recoverInterrupted } from '../../src/plan/apply.js';
import type { PlannedFile } from '../../src/plan/plan.js';
import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';
import { TAG_MODEL } from '../support/schemas.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO, 'bin/trackhub-gen.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-genfaults-'));
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const V1 = path.join(tmp, 'v1.prisma');
const V2 = path.join(tmp, 'v2.prisma');

type Snapshot = Record<string, string>;
const snapshot = (dir: string): Snapshot =>
  Object.fromEntries(listFiles(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), 'latin1')]));
const leftovers = (dir: string): string[] => listFiles(dir).filter((f) => f.includes('.trackhub-'));
/** The files of the output, without what an interrupted run leaves next to them. */
const outputFiles = (dir: string): Snapshot =>
  Object.fromEntries(Object.entries(snapshot(dir)).filter(([f]) => !f.includes('.trackhub-')));

let previous: Snapshot;
let next: Snapshot;
let fresh = 0;

/** A new output directory holding the v1 output. */
async function previousOutput(): Promise<string> {
  const out = path.join(tmp, `out-${++fresh}`);
  const run = await runCli(['generate', '--schema', V1, '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  return out;
}

async function generateV2(out: string): Promise<void> {
  const run = await runCli(['generate', '--schema', V2, '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  expect(snapshot(out)).toEqual(next);
  expect(leftovers(out)).toEqual([]);
}

beforeAll(async () => {
  const v1 = readFileSync(path.join(REPO, 'fixtures/trackhub/schema.prisma'), 'utf8');
  writeFileSync(V1, v1);
  writeFileSync(V2, v1.replace('  profile   Json?\n', '  profile   Json?\n  nickname  String?\n') + TAG_MODEL);
  const out = await previousOutput();
  previous = snapshot(out);
  const run = await runCli(['generate', '--schema', V2, '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/9 created, 81 changed/); // the new Tag model's files, its server and client hooks included
  next = snapshot(out);
});

describe('output not writable', () => {
  const root = process.getuid?.() === 0;

  it(`a read-only output directory (${root ? 'CLI run as nobody: root ignores permissions' : 'chmod'}): clear error, exit 2, nothing changed`, async () => {
    const out = await previousOutput();
    // The output is writable except one generated directory, so the run fails midway, after staging began.
    const blocked = path.join(out, 'server/generated/hero');
    const args = [BIN, 'generate', '--schema', V2, '--out', out];
    let result;
    if (root) {
      spawnSync('chown', ['-R', '65534:65534', out]);
      chownSync(blocked, 0, 0);
      chmodSync(blocked, 0o755);
      result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { cwd: REPO, encoding: 'utf8' });
    } else {
      chmodSync(blocked, 0o555);
      result = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
    }
    expect(result.stderr).toMatch(/error: cannot write .*server\/generated\/hero.*(EACCES|permission denied)/);
    expect(result.stderr).toMatch(/the previous output was left as it was/);
    expect(result.status).toBe(2);
    expect(snapshot(out)).toEqual(previous);

    if (root) spawnSync('chown', ['-R', '0:0', out]);
    else chmodSync(blocked, 0o755);
    await generateV2(out);
  });

  it('a regular file where the output directory should be: clear error, exit 2, the file untouched', async () => {
    const out = path.join(tmp, 'a-file');
    writeFileSync(out, 'not a directory');
    const run = await runCli(['generate', '--schema', V2, '--out', out]);
    expect(run.stderr).toMatch(/error: cannot write .*a-file.*(EEXIST|ENOTDIR)/);
    expect(run.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('not a directory');
  });

  it('a regular file where a new generated directory must go: fails midway, previous output intact, then a re-run succeeds', async () => {
    const out = await previousOutput();
    writeFileSync(path.join(out, 'server/generated/tag'), 'in the way');
    const before = snapshot(out);
    const run = await runCli(['generate', '--schema', V2, '--out', out]);
    expect(run.stderr).toMatch(/error: cannot write .*server\/generated\/tag/);
    expect(run.code).toBe(2);
    expect(snapshot(out)).toEqual(before);
    rmSync(path.join(out, 'server/generated/tag'));
    await generateV2(out);
  });
});

describe('a write failing midway (injected)', () => {
  /** The v2 output as a plan, minus one generated file so that a deletion is part of the change too. */
  const planV2 = (): PlannedFile[] =>
    Object.entries(next)
      .filter(([f]) => f !== 'server/generated/hero/hero.model.ts')
      .map(([f, content]) => ({ path: f, content, owner: 'generator' as const }));

  it.each([
    ['the first staged file', 'write', 1],
    ['a middle staged file', 'write', 30],
    ['the last staged file', 'write', -1],
    ['the first replacement', 'rename', 1],
    ['a middle replacement', 'rename', 40],
    ['the last replacement', 'rename', -1],
  ] as const)('disk full at %s: previous output intact, no leftovers', async (_what, step, at) => {
    const out = await previousOutput();
    const changes = await comparePlan(planV2(), out, { deleteStale: true });
    expect(changes.filter((c) => c.status === 'deleted').map((c) => c.path)).toEqual(['server/generated/hero/hero.model.ts']);
    const last = changes.filter((c) => c.status === 'created' || c.status === 'changed').length;
    const failAt = at === -1 ? last : at;
    let writes = 0;
    let renames = 0;
    const faulty = {
      writeFile: async (file: string, text: string) => {
        if (step === 'write' && ++writes === failAt) throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
        await writeFile(file, text, 'utf8');
      },
      rename: async (from: string, to: string) => {
        if (step === 'rename' && from.includes('.trackhub-tmp-') && ++renames === failAt) throw new Error('EIO (injected)');
        await rename(from, to);
      },
    };
    await expect(applyChanges(changes, out, faulty)).rejects.toThrow(/cannot write .*injected/);
    expect(snapshot(out)).toEqual(previous);
    await generateV2(out);
  });
});

it('a first generate into a new directory that fails midway leaves no directory behind', async () => {
  const out = path.join(tmp, 'never-made', 'out');
  const changes = await comparePlan(
    Object.entries(next).map(([f, content]) => ({ path: f, content, owner: 'generator' as const })),
    out,
    { deleteStale: true },
  );
  let writes = 0;
  const faulty = {
    writeFile: async (file: string, text: string) => {
      if (++writes === 20) throw new Error('ENOSPC (injected)');
      await writeFile(file, text, 'utf8');
    },
    rename,
  };
  await expect(applyChanges(changes, out, faulty)).rejects.toThrow(/injected/);
  expect(existsSync(path.join(tmp, 'never-made'))).toBe(false);
});

describe('process killed during generate', () => {
  /** Runs the CLI in a child process; resolves once it says it paused (or exits), then kills it with SIGKILL. */
  function generateAndKill(out: string, opts: { pauseAt?: string; afterMs?: number }): Promise<{ paused: boolean; exited: number | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'generate', '--schema', V2, '--out', out], {
        cwd: REPO,
        env: { ...process.env, ...(opts.pauseAt ? { TRACKHUB_TEST_PAUSE_AT: opts.pauseAt } : {}) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let paused = false;
      let exited: number | null = null;
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk);
        if (!paused && stderr.includes('paused at')) {
          paused = true;
          child.kill('SIGKILL');
        }
      });
      if (opts.afterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), opts.afterMs);
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        exited = code;
        if (opts.pauseAt && !paused) reject(new Error(`generate never reached ${opts.pauseAt} (exit ${code} ${signal}): ${stderr}`));
        else resolve({ paused, exited });
      });
    });
  }

  it.each([
    ['while staging the first file', 'stage:1', 'previous'],
    ['while staging, halfway', 'stage:31', 'previous'],
    ['after staging, replacing the first file', 'replace:1', 'previous'],
    ['halfway through replacing', 'replace:31', 'previous'],
    ['after the last file was replaced, before the commit point', 'replace:62', 'previous'],
    ['right after the commit point', 'committed', 'next'],
  ] as const)('SIGKILL %s: the output is the %s one, then a re-run succeeds', async (_what, pauseAt, expected) => {
    const out = await previousOutput();
    const { paused } = await generateAndKill(out, { pauseAt });
    expect(paused).toBe(true);
    // Killed before replacing anything: the previous files are there as they were, untouched.
    if (pauseAt.startsWith('stage:')) expect(outputFiles(out)).toEqual(previous);
    // What the next generate does first: roll back (before the commit point) or finish (after it).
    expect(existsSync(path.join(out, JOURNAL_NAME))).toBe(true);
    expect(await recoverInterrupted(out)).toBe(true);
    expect(snapshot(out)).toEqual(expected === 'previous' ? previous : next);
    await generateV2(out);
  });

  it('SIGKILL after random delays: always exactly the previous or the next output', async () => {
    const seen = new Set<string>();
    for (const afterMs of [400, 900, 1500, 2200, 3000]) {
      const out = await previousOutput();
      await generateAndKill(out, { afterMs });
      await recoverInterrupted(out);
      const state = snapshot(out);
      const which = JSON.stringify(state) === JSON.stringify(previous) ? 'previous' : JSON.stringify(state) === JSON.stringify(next) ? 'next' : 'mixed';
      expect(which, `killed after ${afterMs} ms`).not.toBe('mixed');
      seen.add(which);
      await generateV2(out);
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('the next generate recovers by itself (no manual step) and says so', async () => {
    const out = await previousOutput();
    await generateAndKill(out, { pauseAt: 'replace:31' });
    const run = await runCli(['generate', '--schema', V2, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/recovered .* from an interrupted generate/);
    expect(snapshot(out)).toEqual(next);
    expect(leftovers(out)).toEqual([]);
  });
});
