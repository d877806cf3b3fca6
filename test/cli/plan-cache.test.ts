/**
 * The plan cache (src/plan/plan-cache.ts) through the CLI: a warm `check` or `generate`
 * reuses the last plan of unchanged inputs, and never at the cost of a wrong answer:
 * drift is still found, a schema edit or a changed snapshot is planned again, and the
 * output is byte for byte what an uncached run writes.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { planKey } from '../../src/plan/plan-cache.js';
import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-plan-cache-'));
const cacheDir = path.join(tmp, 'cache');
const schema = path.join(tmp, 'schema.prisma');
const saved = { dir: process.env.TRACKHUB_GEN_CACHE_DIR, off: process.env.TRACKHUB_GEN_CACHE };
beforeAll(() => {
  cpSync('fixtures/trackhub/schema.prisma', schema);
  process.env.TRACKHUB_GEN_CACHE_DIR = cacheDir;
  delete process.env.TRACKHUB_GEN_CACHE;
});
afterAll(() => {
  for (const [k, v] of [['TRACKHUB_GEN_CACHE_DIR', saved.dir], ['TRACKHUB_GEN_CACHE', saved.off]] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  rmSync(tmp, { recursive: true, force: true });
});

const plans = () => readdirSync(cacheDir).filter((n) => n.startsWith('plan-v1-'));
const tree = (dir: string) => new Map(listFiles(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
const gen = (out: string) => runCli(['generate', '--schema', schema, '--out', out]);
const check = (out: string) => runCli(['check', '--schema', schema, '--out', out]);

describe('plan cache', () => {
  it('a warm check and generate reuse the plan; check writes nothing; the output equals an uncached run', async () => {
    const out = path.join(tmp, 'a');
    expect((await gen(out)).code).toBe(0);
    // Filed under the inputs before the write and under those it left behind (its snapshot).
    expect(plans()).toHaveLength(2);
    const before = plans().map((n) => [n, statSync(path.join(cacheDir, n)).mtimeMs]);
    const warm = await check(out);
    expect(warm.code, warm.stderr).toBe(0);
    expect(plans().map((n) => [n, statSync(path.join(cacheDir, n)).mtimeMs])).toEqual(before);
    expect((await gen(out)).stdout).toMatch(/0 created, 0 changed, 0 deleted/);
    process.env.TRACKHUB_GEN_CACHE = 'off';
    const cold = path.join(tmp, 'cold');
    try {
      expect((await gen(cold)).code).toBe(0);
    } finally {
      delete process.env.TRACKHUB_GEN_CACHE;
    }
    expect(tree(out)).toEqual(tree(cold));
  });

  it('a warm check answers from the cached plan: a plan tampered with in the cache reads as drift, and a fresh one as clean', async () => {
    const out = path.join(tmp, 'tampered');
    expect((await gen(out)).code).toBe(0);
    for (const name of plans()) {
      const file = path.join(cacheDir, name);
      const cached = JSON.parse(readFileSync(file, 'utf8')) as { plan: Array<{ path: string; content: string }> };
      const sdl = cached.plan.find((f) => f.path === 'graphql/schema.graphql')!;
      sdl.content += '# not what the schema generates\n';
      writeFileSync(file, JSON.stringify(cached));
    }
    const run = await check(out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/graphql\/schema\.graphql \(changed\)/);
    rmSync(cacheDir, { recursive: true, force: true });
    expect((await check(out)).code).toBe(0);
  });

  it('a warm check still finds a changed, a missing and a stale generated file', async () => {
    const out = path.join(tmp, 'b');
    expect((await gen(out)).code).toBe(0);
    expect((await check(out)).code).toBe(0);
    const resolver = path.join(out, 'server/generated/space/space.resolver.ts');
    writeFileSync(resolver, `${readFileSync(resolver, 'utf8')}// edited by hand\n`);
    const schemaTs = path.join(out, 'client/generated/schema.ts');
    unlinkSync(schemaTs);
    // A file the generator wrote once (its header) and no longer plans.
    writeFileSync(path.join(out, 'server/generated/space/left-over.ts'), readFileSync(resolver, 'utf8'));
    const run = await check(out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/server\/generated\/space\/space\.resolver\.ts \(changed\)/);
    expect(run.stderr).toMatch(/client\/generated\/schema\.ts \(missing\)/);
    expect(run.stderr).toMatch(/server\/generated\/space\/left-over\.ts \(stale\)/);
  });

  it('a schema edit is planned again: the new field is generated and check agrees', async () => {
    const out = path.join(tmp, 'c');
    expect((await gen(out)).code).toBe(0);
    const text = readFileSync(schema, 'utf8');
    const edited = text.replace(/(\nmodel Space \{\n)/, '$1  motto String?\n');
    expect(edited).not.toBe(text);
    writeFileSync(schema, edited);
    try {
      expect((await check(out)).code).toBe(1);
      const run = await gen(out);
      expect(run.code).toBe(0);
      expect(readFileSync(path.join(out, 'client/generated/schema.ts'), 'utf8')).toMatch(/motto/);
      expect((await check(out)).code).toBe(0);
    } finally {
      writeFileSync(schema, text);
    }
  });

  it('the key covers the generator, every schema file by name and text, and the emit options with the snapshot', () => {
    const base = { generator: 'g1', files: [{ file: 'schema.prisma', text: 'model A {}' }], options: { runtimeServer: 's', runtimeClient: 'c' } };
    const key = planKey(base);
    expect(planKey({ ...base })).toBe(key);
    expect(planKey({ ...base, generator: 'g2' })).not.toBe(key);
    expect(planKey({ ...base, files: [{ file: 'other.prisma', text: 'model A {}' }] })).not.toBe(key);
    expect(planKey({ ...base, files: [{ file: 'schema.prisma', text: 'model A { }' }] })).not.toBe(key);
    expect(planKey({ ...base, options: { ...base.options, runtimeClient: 'd' } })).not.toBe(key);
    const snapshot = { version: 1, tables: [], migrations: [] };
    expect(planKey({ ...base, options: { ...base.options, previousClientSchema: snapshot } })).not.toBe(key);
  });
});
