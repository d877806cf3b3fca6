/**
 * Seed matrix: client schema migration with data kept. A device database written by
 * the version-1 client opens with the version-2 client (a new column and a new
 * table), keeps every row and every queued change, and keeps syncing.
 */
import 'reflect-metadata';

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { bootGeneratedServer, TAG_MODEL } from '../support/generated-project.js';

// Inside the repository, so generated code resolves `trackhub-gen/runtime/*`.
const work = path.resolve('.cache/test-migration');
const v1 = path.join(work, 'v1');
const v2 = path.join(work, 'v2');
const tmp = mkdtempSync(path.join(tmpdir(), 'trackhub-migration-'));
let v2Schema = '';
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  cpSync('fixtures/trackhub', path.join(work, 'prisma'), { recursive: true });
  const schema = path.join(work, 'prisma/schema.prisma');
  expect((await runCli(['generate', '--schema', schema, '--out', v1])).code).toBe(0);
  // Version 2: a new Space field and a new entity, generated on top of v1's committed snapshot.
  cpSync(v1, v2, { recursive: true });
  v2Schema = readFileSync(schema, 'utf8').replace('  color         String?\n', '  color         String?\n  emoji         String?\n') + TAG_MODEL;
  writeFileSync(schema, v2Schema);
  expect((await runCli(['generate', '--schema', schema, '--out', v2])).code).toBe(0);
}, 120_000);


afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('seed matrix: client schema migration', () => {
  it('a version-1 device database opens with version 2, keeps every row and queued change, and keeps syncing', async () => {
    expect(readFileSync(path.join(v2, 'client/generated/schema.ts'), 'utf8')).toContain('SCHEMA_VERSION = 2;');

    // The server runs the version-2 schema.
    const { url, prisma, stop } = await bootGeneratedServer(v2, v2Schema, path.join(tmp, 'server.db'));
    stops.push(stop);
    const dbDir = path.join(tmp, 'device');
    const options = { tenantId: 't1', url, token: 'dev:t1:ann', dbDir };

    // Version 1 on the device: one synced Space, one created offline and still queued.
    const clientV1 = (await import(path.join(v1, 'client/generated/index.ts'))).createClient(options);
    const synced = await clientV1.spaces.create({ name: 'Synced', ownerId: 'ann' });
    await clientV1.syncAll();
    const queued = await clientV1.spaces.create({ name: 'Queued offline', ownerId: 'ann' });
    expect(await clientV1.queueSize()).toBe(1);
    await clientV1.close();

    // The app updates: version 2 opens the same database file.
    const clientV2 = (await import(path.join(v2, 'client/generated/index.ts'))).createClient(options);
    const spaces = await clientV2.spaces.list();
    expect(spaces.map((s: { name: string }) => s.name).sort()).toEqual(['Queued offline', 'Synced']);
    expect((await clientV2.spaces.get(synced.id))?.serverId).toBeTruthy();
    expect(await clientV2.queueSize()).toBe(1);
    expect((await clientV2.spaces.get(queued.id))?.emoji).toBeNull();

    // The new column and the new table work, and everything syncs.
    await clientV2.spaces.update(queued.id, { emoji: '🧪' });
    const tag = await clientV2.tags.create({ label: 'migrated' });
    await clientV2.syncAll();
    expect(await clientV2.queueSize()).toBe(0);
    expect(await prisma.space.findFirst({ where: { clientId: queued.id } })).toMatchObject({ name: 'Queued offline', emoji: '🧪', tenantId: 't1' });
    expect(await prisma.space.count({ where: { tenantId: 't1' } })).toBe(2);
    expect(await prisma.tag.findFirst({ where: { clientId: tag.id } })).toMatchObject({ label: 'migrated' });

    // A fresh version-2 device gets the same data.
    const other = (await import(path.join(v2, 'client/generated/index.ts'))).createClient({ ...options, dbDir: path.join(tmp, 'other') });
    await other.syncAll();
    expect((await other.spaces.list()).map((s: { name: string; emoji: string | null }) => [s.name, s.emoji]).sort()).toEqual([
      ['Queued offline', '🧪'],
      ['Synced', null],
    ]);
    expect((await other.tags.list()).map((t: { label: string }) => t.label)).toEqual(['migrated']);
    await clientV2.close();
    await other.close();
  }, 120_000);
});
