/**
 * Onboarding a new entity into an existing project with `trackhub-gen entity <Name>`.
 * (Its own file: NestJS code-first keeps one type registry per process, so two
 * different generated servers cannot boot in one test file.)
 */
import 'reflect-metadata';

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { listFiles } from '../support/files.js';
import { bootGeneratedServer, TAG_MODEL } from '../support/generated-project.js';

const work = path.resolve('.cache/test-onboarding');
const v1 = path.join(work, 'v1');
const v3 = path.join(work, 'project');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-onboarding-'));
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  cpSync('fixtures/trackhub', path.join(work, 'prisma'), { recursive: true });
  expect((await runCli(['generate', '--schema', path.join(work, 'prisma/schema.prisma'), '--out', v1])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});


describe('onboarding a new entity', () => {
  it('onboarding: `entity Tag` on an existing project adds only what Tag needs, compiles, and Tag syncs', async () => {
    cpSync(v1, v3, { recursive: true });
    const schema = path.join(work, 'prisma/schema.prisma');
    writeFileSync(schema, readFileSync(schema, 'utf8') + TAG_MODEL);
    const userFile = path.join(v3, 'server/app.module.ts');
    writeFileSync(userFile, readFileSync(userFile, 'utf8') + '\n// my own change\n');
    const before = Object.fromEntries(listFiles(v3).map((f) => [f, readFileSync(path.join(v3, f), 'utf8')]));

    const run = await runCli(['entity', 'Tag', '--schema', schema, '--out', v3]);
    expect(run.code).toBe(0);
    const after = Object.fromEntries(listFiles(v3).map((f) => [f, readFileSync(path.join(v3, f), 'utf8')]));
    const changed = Object.keys(after).filter((f) => before[f] !== after[f]).sort();
    // Tag's own files, and the shared files that list every entity; no other entity, no user file.
    expect(changed.filter((f) => !/tag/i.test(f))).toEqual([
      'client/generated/database.ts',
      'client/generated/descriptors.ts',
      'client/generated/index.ts',
      'client/generated/migrations.ts',
      'client/generated/operation-sources.ts',
      'client/generated/operations.ts',
      'client/generated/schema.ts',
      'client/schema.snapshot.json',
      'graphql/operations.graphql',
      'graphql/schema.graphql',
      'ops/grafana-dashboard.json',
      'ops/prometheus-alerts.yml',
      'server/generated/index.ts',
      'server/generated/sync/sync.registry.ts',
      'server/generated/trackhub.module.ts',
    ]);
    expect(changed).toContain('server/generated/tag/tag.resolver.ts');
    expect(after['server/app.module.ts']).toBe(before['server/app.module.ts']);
    // Idempotent.
    expect((await runCli(['entity', 'Tag', '--schema', schema, '--out', v3])).stdout).toMatch(/0 created, 0 changed/);
    // The project compiles under tsc --strict (with the example's tsconfig: generate writes none).
    copyFileSync(path.resolve('generated-example/tsconfig.json'), path.join(v3, 'tsconfig.json'));
    const tsc = spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', path.join(v3, 'tsconfig.json')], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    // And Tag syncs end to end between two devices.
    const { url, prisma, stop } = await bootGeneratedServer(v3, readFileSync(schema, 'utf8'), path.join(tmp, 'onboard.db'));
    stops.push(stop);
    const { createClient } = await import(path.join(v3, 'client/generated/index.ts'));
    const a = createClient({ tenantId: 't9', url, token: 'dev:t9:a', dbDir: path.join(tmp, 'onboard-a') });
    const b = createClient({ tenantId: 't9', url, token: 'dev:t9:b', dbDir: path.join(tmp, 'onboard-b') });
    const tag = await a.tags.create({ label: 'new entity' });
    await a.syncAll();
    await b.syncAll();
    expect((await b.tags.list()).map((t: { id: string; label: string }) => [t.id, t.label])).toEqual([[tag.id, 'new entity']]);
    expect(await prisma.tag.count({ where: { tenantId: 't9' } })).toBe(1);
    await a.close();
    await b.close();
  }, 120_000);
});
