/**
 * The generated client (generated-example/client) against the REAL generated
 * server (test/support/example-server, SQLite): online create, every conflict
 * strategy, field-level merge with `_base`, force push.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../generated-example/client/generated/index.js';
import { startExampleServer, type RunningServer } from '../support/example-server.js';

let server: RunningServer;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startExampleServer({ provider: 'sqlite' });
});
afterAll(async () => {
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dev(t = 't1') {
  const dbDir = mkdtempSync(path.join(tmpdir(), 'scratch-'));
  dirs.push(dbDir);
  return createClient({ tenantId: t, url: server.url, token: `dev:${t}:u`, dbDir });
}

it('online create, conflict strategies, merge and force push against the real server', async () => {
  const a = dev();
  const b = dev();
  const s = await a.spaces.createOnline({ name: 'online', ownerId: 'u' });
  expect(s.serverId).toBeTruthy();
  const g = await a.groups.createOnline({ name: 'g', spaceId: s.id });
  expect(g.serverId).toBeTruthy();
  await b.syncAll();
  expect((await b.groups.list())[0]!.spaceId).toBe(s.id);

  // timestamp: server newer -> device adopts
  await a.spaces.update(s.id, { name: 'A edit' });
  await new Promise((r) => setTimeout(r, 5));
  await b.spaces.update(s.id, { name: 'B edit (newer)' });
  await b.syncAll();
  await a.syncAll();
  expect((await a.spaces.get(s.id))?.name).toBe('B edit (newer)'); // A's edit is older -> server wins
  expect((await a.listConflicts()).map((x) => [x.entity, x.resolved, x.resolution])).toEqual([
    ['Space', true, 'server'],
  ]);

  // merge (ChecklistItem)
  const c = await a.checklists.create({ title: 'c' });
  const item = await a.checklistItems.create({ label: 'x', checklistId: c.id });
  await a.syncAll();
  await b.syncAll();
  await a.checklistItems.update(item.id, { label: 'A label' });
  await b.checklistItems.update(item.id, { done: true });
  await b.syncAll();
  const r = await a.syncAll();
  console.log(JSON.stringify(r.entities.find((e) => e.entity === 'ChecklistItem')));
  expect(await a.checklistItems.get(item.id)).toMatchObject({ label: 'A label', done: true });
  await b.syncAll();
  expect(await b.checklistItems.get(item.id)).toMatchObject({ label: 'A label', done: true });

  // merge clash
  await a.checklistItems.update(item.id, { label: 'A2', position: 5 });
  await b.checklistItems.update(item.id, { label: 'B2' });
  await b.syncAll();
  await a.syncAll();
  await a.syncAll();
  // label clashed (server keeps B2), position changed on A only (kept and pushed again).
  expect(await a.checklistItems.get(item.id)).toMatchObject({ label: 'B2', position: 5 });
  expect((await a.listConflicts({ entity: 'ChecklistItem' })).map((x) => x.resolution)).toEqual(['merge']);
  await b.syncAll();
  expect(await b.checklistItems.get(item.id)).toMatchObject({ label: 'B2', position: 5 });

  // serverWins Company
  const co = await a.companies.create({ name: 'co' });
  await a.syncAll();
  await b.syncAll();
  await a.companies.update(co.id, { name: 'A co' });
  await b.companies.update(co.id, { name: 'B co' });
  await b.syncAll();
  await a.syncAll();
  expect((await a.companies.get(co.id))?.name).toBe('B co');
  // clientWins Hero
  const h = await a.heroes.create({ name: 'h' });
  await a.syncAll();
  await b.syncAll();
  await b.heroes.update(h.id, { name: 'B h' });
  await b.syncAll();
  await a.heroes.update(h.id, { name: 'A h' });
  await a.syncAll();
  await b.syncAll();
  expect((await b.heroes.get(h.id))?.name).toBe('A h');
  // delete while other edits; force push / force server
  await a.spaces.update(s.id, { name: 'forced' });
  await b.spaces.update(s.id, { name: 'other' });
  await b.syncAll();
  await a.forcePushLocal(['Space']);
  await b.syncAll();
  expect((await b.spaces.get(s.id))?.name).toBe('forced');
  expect(await a.queueSize()).toBe(0);
  expect(await b.queueSize()).toBe(0);
});
