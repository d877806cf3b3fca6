/**
 * Bad push payload corpus, over HTTP against the GENERATED example server
 * (SQLite and PostgreSQL). Each bad item is sent in ONE syncPush batch between
 * two good creates of the same entity. Each case asserts:
 *   - the bad item's per-item result: its error code (docs/server-contract.md) and a
 *     message naming the problem;
 *   - the two good items of the same batch were applied;
 *   - nothing bad was written: the tenant's rows are exactly the rows before the batch
 *     plus the two good ones (existing rows compared in full).
 * Every case runs in a tenant of its own with the same small fixture
 * (Space -> Checklist -> ChecklistItem, Hero, Company).
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleDatabases, type RunningServer } from '../support/example-server.js';
import { SYNC_PUSH as PUSH } from '../support/operations.js';

const databases = await exampleDatabases('bad_payloads');


type Entity = 'Space' | 'Checklist' | 'ChecklistItem' | 'Hero' | 'Company';

interface Fixture {
  tenant: string;
  space: { id: string; clientId: string };
  checklist: { id: string; clientId: string };
  item: { id: string; clientId: string };
  hero: { id: string; clientId: string };
  company: { id: string; clientId: string };
  /** A Checklist of ANOTHER tenant. */
  foreignChecklist: string;
}

interface BadCase {
  name: string;
  entity: Entity;
  /** The bad item, or raw JSON text for what JSON.stringify cannot express. */
  item: (f: Fixture) => unknown;
  raw?: (f: Fixture) => string;
  code: 'VALIDATION_FAILED' | 'FORBIDDEN_FIELD' | 'NOT_FOUND' | 'CONFLICT';
  message: RegExp;
}

const now = () => new Date().toISOString();
const deep = (n: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = { v };
  return v;
};

const cases: BadCase[] = [
  // wrong types
  { name: 'String field given a number', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 42, ownerId: 'o' }), code: 'VALIDATION_FAILED', message: /name must be a string/ },
  { name: 'String field given an object', entity: 'Space', item: () => ({ clientId: randomUUID(), name: { $ne: null }, ownerId: 'o' }), code: 'VALIDATION_FAILED', message: /name/ },
  { name: 'Int field given a string', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', position: '1' }), code: 'VALIDATION_FAILED', message: /position/ },
  { name: 'Int field given a fraction', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', position: 1.5 }), code: 'VALIDATION_FAILED', message: /position/ },
  { name: 'Int field beyond 32 bits', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', position: 2 ** 31 }), code: 'VALIDATION_FAILED', message: /position/ },
  { name: 'Int field beyond 2^53', entity: 'Hero', item: () => ({ clientId: randomUUID(), name: 'n', power: 2 ** 60 }), code: 'VALIDATION_FAILED', message: /power/ },
  { name: 'Float field overflowing to Infinity (1e400)', entity: 'Hero', item: () => null, raw: () => `{"clientId":"${randomUUID()}","name":"n","rating":1e400}`, code: 'VALIDATION_FAILED', message: /rating/ },
  { name: 'Float field given a string', entity: 'Hero', item: () => ({ clientId: randomUUID(), name: 'n', rating: 'high' }), code: 'VALIDATION_FAILED', message: /rating/ },
  { name: 'Boolean field given "yes"', entity: 'Hero', item: () => ({ clientId: randomUUID(), name: 'n', active: 'yes' }), code: 'VALIDATION_FAILED', message: /active/ },
  { name: 'Boolean field given 1', entity: 'ChecklistItem', item: (f) => ({ clientId: randomUUID(), label: 'l', checklistId: f.checklist.id, done: 1 }), code: 'VALIDATION_FAILED', message: /done/ },
  { name: 'wrong enum value', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', kind: 'GALAXY' }), code: 'VALIDATION_FAILED', message: /kind/ },
  { name: 'enum value in the wrong case', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', kind: 'team' }), code: 'VALIDATION_FAILED', message: /kind/ },
  // missing / unknown / server-only fields
  { name: 'create missing a required field', entity: 'Space', item: () => ({ clientId: randomUUID(), ownerId: 'o' }), code: 'VALIDATION_FAILED', message: /missing required field\(s\): name/ },
  { name: 'required field set to null', entity: 'Space', item: () => ({ clientId: randomUUID(), name: null, ownerId: 'o' }), code: 'VALIDATION_FAILED', message: /name/ },
  { name: 'required relation set to null', entity: 'ChecklistItem', item: () => ({ clientId: randomUUID(), label: 'l', checklistId: null }), code: 'VALIDATION_FAILED', message: /checklistId/ },
  { name: 'unknown field', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', isAdmin: true }), code: 'VALIDATION_FAILED', message: /unknown field isAdmin/ },
  { name: 'a relation navigation object instead of the key', entity: 'Checklist', item: (f) => ({ clientId: randomUUID(), title: 't', space: { connect: { id: f.space.id } } }), code: 'VALIDATION_FAILED', message: /unknown field space/ },
  { name: 'server-only (@sync.ignore) field', entity: 'Space', item: () => ({ clientId: randomUUID(), name: 'n', ownerId: 'o', internalNotes: 'x' }), code: 'FORBIDDEN_FIELD', message: /internalNotes/ },
  // ids, clientIds, versions
  { name: 'create without a clientId', entity: 'Hero', item: () => ({ name: 'n' }), code: 'VALIDATION_FAILED', message: /clientId/ },
  { name: 'clientId that is a number', entity: 'Hero', item: () => ({ clientId: 42, name: 'n' }), code: 'VALIDATION_FAILED', message: /clientId must be/ },
  { name: 'empty clientId', entity: 'Hero', item: () => ({ clientId: '', name: 'n' }), code: 'VALIDATION_FAILED', message: /clientId must be/ },
  { name: 'clientId with a NUL character', entity: 'Hero', item: () => ({ clientId: 'a\u0000b', name: 'n' }), code: 'VALIDATION_FAILED', message: /clientId must be/ },
  { name: 'id that is an object', entity: 'Hero', item: (f) => ({ id: { equals: f.hero.id }, version: 1, name: 'x' }), code: 'VALIDATION_FAILED', message: /id must be/ },
  { name: 'update of an unknown id', entity: 'Hero', item: () => ({ id: randomUUID(), version: 1, name: 'x' }), code: 'NOT_FOUND', message: /no Hero with id/ },
  { name: 'update with neither id nor clientId', entity: 'Hero', item: () => ({ version: 1, name: 'x' }), code: 'VALIDATION_FAILED', message: /needs id or clientId/ },
  { name: 'version as a string', entity: 'Hero', item: (f) => ({ id: f.hero.id, version: '1', name: 'x' }), code: 'VALIDATION_FAILED', message: /version must be/ },
  { name: 'negative version', entity: 'Hero', item: (f) => ({ id: f.hero.id, version: -1, name: 'x' }), code: 'VALIDATION_FAILED', message: /version must be/ },
  { name: 'fractional version', entity: 'Hero', item: (f) => ({ id: f.hero.id, version: 1.5, name: 'x' }), code: 'VALIDATION_FAILED', message: /version must be/ },
  { name: 'version from the future under serverWins', entity: 'Company', item: (f) => ({ id: f.company.id, version: 99, name: 'x', updatedAt: now() }), code: 'CONFLICT', message: /serverWins/ },
  { name: 'stale update without a device updatedAt under timestamp', entity: 'Space', item: (f) => ({ id: f.space.id, version: 0, name: 'x' }), code: 'CONFLICT', message: /no device updatedAt/ },
  { name: 'edit of a record with a clientId of another record', entity: 'Checklist', item: (f) => ({ clientId: f.item.clientId, version: 1, title: 'x' }), code: 'NOT_FOUND', message: /no Checklist with clientId/ },
  // dates and text
  { name: 'impossible date (Feb 29 in 2021)', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', dueAt: '2021-02-29T00:00:00.000Z' }), code: 'VALIDATION_FAILED', message: /dueAt/ },
  { name: 'date-time at hour 25', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', dueAt: '2021-01-01T25:00:00Z' }), code: 'VALIDATION_FAILED', message: /dueAt/ },
  { name: 'year 0', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', dueAt: '0000-06-01T00:00:00Z' }), code: 'VALIDATION_FAILED', message: /dueAt/ },
  { name: 'a date as epoch milliseconds', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', dueAt: 1700000000000 }), code: 'VALIDATION_FAILED', message: /dueAt/ },
  { name: 'a date in words', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', dueAt: 'tomorrow' }), code: 'VALIDATION_FAILED', message: /dueAt/ },
  { name: 'deletedAt that is not a date', entity: 'Hero', item: (f) => ({ id: f.hero.id, version: 1, deletedAt: 'soon' }), code: 'VALIDATION_FAILED', message: /deletedAt must be/ },
  { name: 'updatedAt that is not a date', entity: 'Hero', item: (f) => ({ id: f.hero.id, version: 1, name: 'x', updatedAt: 'now' }), code: 'VALIDATION_FAILED', message: /updatedAt must be/ },
  { name: 'NUL character in text', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 'a\u0000b' }), code: 'VALIDATION_FAILED', message: /title/ },
  { name: 'lone UTF-16 surrogate in text', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 'a\ud800b' }), code: 'VALIDATION_FAILED', message: /title/ },
  // JSON abuse
  { name: 'item that is a string', entity: 'Hero', item: () => 'DROP TABLE', code: 'VALIDATION_FAILED', message: /item must be a JSON object/ },
  { name: 'item that is an array', entity: 'Hero', item: () => [{ clientId: randomUUID(), name: 'n' }], code: 'VALIDATION_FAILED', message: /item must be a JSON object/ },
  { name: 'NUL character in a Json key', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', metadata: { 'k\u0000': 1 } }), code: 'VALIDATION_FAILED', message: /metadata/ },
  { name: '_base that is not an object (merge)', entity: 'ChecklistItem', item: (f) => ({ id: f.item.id, version: 1, label: 'x', _base: 'label' }), code: 'VALIDATION_FAILED', message: /_base must be an object/ },
  { name: '_base naming an unknown field (merge)', entity: 'ChecklistItem', item: (f) => ({ id: f.item.id, version: 0, label: 'x', _base: { secret: 1 } }), code: 'VALIDATION_FAILED', message: /_base: unknown field secret/ },
  { name: 'Json nested 2,000 levels deep', entity: 'Checklist', item: () => ({ clientId: randomUUID(), title: 't', metadata: deep(2000) }), code: 'VALIDATION_FAILED', message: /metadata/ },
  // foreign keys
  { name: 'foreign key to no record', entity: 'ChecklistItem', item: () => ({ clientId: randomUUID(), label: 'l', checklistId: randomUUID() }), code: 'VALIDATION_FAILED', message: /checklistId: no Checklist/ },
  { name: "foreign key to another tenant's record", entity: 'ChecklistItem', item: (f) => ({ clientId: randomUUID(), label: 'l', checklistId: f.foreignChecklist }), code: 'VALIDATION_FAILED', message: /checklistId: no Checklist/ },
  { name: 'foreign key to a record of the wrong entity', entity: 'ChecklistItem', item: (f) => ({ clientId: randomUUID(), label: 'l', checklistId: f.space.id }), code: 'VALIDATION_FAILED', message: /checklistId: no Checklist/ },
  { name: 'update moving a record under no parent', entity: 'ChecklistItem', item: (f) => ({ id: f.item.id, version: 1, checklistId: randomUUID() }), code: 'VALIDATION_FAILED', message: /checklistId: no Checklist/ },
];

let tenantNo = 0;

describe.each(databases)('bad push payload corpus on $name', ({ start }) => {
  let server: RunningServer;

  async function push(tenant: string, entity: string, items: unknown[] | string): Promise<any[]> {
    const body =
      typeof items === 'string'
        ? `{"query":${JSON.stringify(PUSH)},"variables":{"entity":${JSON.stringify(entity)},"items":${items}}}`
        : JSON.stringify({ query: PUSH, variables: { entity, items } });
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:u` },
      body,
    });
    const json = (await res.json()) as { data?: { syncPush: any[] }; errors?: unknown };
    expect(json.errors, JSON.stringify(json.errors)).toBeUndefined();
    return json.data!.syncPush;
  }

  async function create(tenant: string, entity: string, fields: Record<string, unknown>) {
    const clientId = randomUUID();
    const [r] = await push(tenant, entity, [{ clientId, ...fields }]);
    expect(r, JSON.stringify(r)).toMatchObject({ success: true });
    return { id: r.id as string, clientId };
  }

  async function fixture(): Promise<Fixture> {
    const tenant = `bad-${++tenantNo}`;
    const space = await create(tenant, 'Space', { name: 'S', ownerId: 'o' });
    const checklist = await create(tenant, 'Checklist', { title: 'C', spaceId: space.id });
    const item = await create(tenant, 'ChecklistItem', { label: 'I', checklistId: checklist.id });
    const hero = await create(tenant, 'Hero', { name: 'H' });
    const company = await create(tenant, 'Company', { name: 'Co' });
    const foreign = await create(`${tenant}-other`, 'Checklist', { title: 'other tenant' });
    return { tenant, space, checklist, item, hero, company, foreignChecklist: foreign.id };
  }

  const TABLES: [string, string][] = [
    ['space', 'tenantId'],
    ['checklist', 'tenantId'],
    ['checklistItem', 'tenantId'],
    ['hero', 'tenantId'],
    ['company', 'workspaceId'],
  ];
  async function rows(tenant: string): Promise<Record<string, any[]>> {
    const out: Record<string, any[]> = {};
    for (const [delegate, field] of TABLES)
      out[delegate] = await server.prisma[delegate].findMany({ where: { [field]: tenant }, orderBy: { id: 'asc' } });
    return out;
  }

  const good = (entity: Entity, f: Fixture): Record<string, unknown> => {
    const clientId = randomUUID();
    switch (entity) {
      case 'Space':
        return { clientId, name: 'good', ownerId: 'o' };
      case 'Checklist':
        return { clientId, title: 'good' };
      case 'ChecklistItem':
        return { clientId, label: 'good', checklistId: f.checklist.id };
      case 'Hero':
        return { clientId, name: 'good' };
      case 'Company':
        return { clientId, name: 'good' };
    }
  };
  const DELEGATE: Record<Entity, string> = { Space: 'space', Checklist: 'checklist', ChecklistItem: 'checklistItem', Hero: 'hero', Company: 'company' };

  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the corpus has at least 30 bad items', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, bad) => {
    const f = await fixture();
    const before = await rows(f.tenant);
    const first = good(bad.entity, f);
    const last = good(bad.entity, f);
    const items = bad.raw
      ? `[${JSON.stringify(first)},${bad.raw(f)},${JSON.stringify(last)}]`
      : [first, bad.item(f), last];
    const results = await push(f.tenant, bad.entity, items);

    expect(results).toHaveLength(3);
    expect(results[0], JSON.stringify(results[0])).toMatchObject({ success: true, clientId: first.clientId, version: 1 });
    expect(results[2], JSON.stringify(results[2])).toMatchObject({ success: true, clientId: last.clientId, version: 1 });
    expect(results[1], JSON.stringify(results[1])).toMatchObject({ success: false, errorCode: bad.code });
    expect(results[1].errorMessage).toMatch(bad.message);
    if (bad.code === 'CONFLICT') expect(results[1].conflict?.serverData).toBeTruthy();

    // exactly the two good rows were added; every existing row is unchanged
    const after = await rows(f.tenant);
    const delegate = DELEGATE[bad.entity];
    const added = after[delegate]!.filter((r) => !before[delegate]!.some((b) => b.id === r.id));
    expect(added.map((r) => r.clientId).sort()).toEqual([first.clientId, last.clientId].sort());
    for (const [name] of TABLES) {
      const kept = after[name]!.filter((r) => before[name]!.some((b) => b.id === r.id));
      expect(kept, `${name} rows changed`).toEqual(before[name]);
      if (name !== delegate) expect(after[name]).toHaveLength(before[name]!.length);
    }
  });
});
