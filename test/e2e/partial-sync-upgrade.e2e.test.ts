/**
 * An app generated before partial sync, on the new runtime: its device schema has no
 * `sync_scopes` table and no `sync_state.scope` column (and no scoped entity). It must
 * still open, sync both ways and resume from its stored position, against the current
 * generated server (SQLite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { appSchema, tableSchema } from '@nozbe/watermelondb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { modelClasses, OfflineFirstSpaceService, schema } from '../../generated-example/client/generated/index.js';
import { spaceDescriptor } from '../../generated-example/client/generated/descriptors.js';
import { TrackhubClient } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { startExampleServer, type RunningServer } from '../support/example-server.js';

/** The generated schema as it was before partial sync. */
const oldSchema = appSchema({
  version: 1,
  tables: Object.values(schema.tables)
    .filter((t) => t.name !== 'sync_scopes')
    .map((t) => tableSchema({ name: t.name, columns: t.columnArray.filter((c) => !(t.name === 'sync_state' && c.name === 'scope')) })),
});

describe('an app generated before partial sync, on the new runtime', () => {
  let server: RunningServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-upgrade-'));
  beforeAll(async () => {
    server = await startExampleServer({ provider: 'sqlite' });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens, pushes, pulls and resumes from its position', async () => {
    expect(oldSchema.tables.sync_scopes).toBeUndefined();
    expect(oldSchema.tables.sync_state!.columns.scope).toBeUndefined();
    const open = (user: string) =>
      new TrackhubClient({ tenantId: 'up', url: server.url, token: `dev:up:${user}`, dbDir: mkdtempSync(path.join(dir, 'd-')), schema: oldSchema, modelClasses, entities: [spaceDescriptor] });
    const a = open('a');
    const b = open('b');
    await new OfflineFirstSpaceService(a).create({ name: 'from a device', ownerId: 'o' });
    await a.syncAll();
    expect(await server.prisma.space.count({ where: { tenantId: 'up', name: 'from a device' } })).toBe(1);
    await server.prisma.space.create({ data: { tenantId: 'up', name: 'from the server', ownerId: 'o' } });
    const first = await b.syncAll();
    expect(first.entities.find((e) => e.entity === 'Space')?.pulled).toBe(2);
    await new OfflineFirstSpaceService(a).create({ name: 'second', ownerId: 'o' });
    await a.syncAll();
    const again = await b.syncAll();
    // Resumed from the stored position: only the new row.
    expect(again.entities.find((e) => e.entity === 'Space')?.pulled).toBe(1);
    const rows = await b.database.get('spaces').query().fetch();
    expect(rows.map((r) => (r._raw as unknown as { name: string }).name).sort()).toEqual(['from a device', 'from the server', 'second']);
    for (const c of [a, b]) {
      await c.close();
      closeNodeDatabase(c.database);
    }
  });
});
