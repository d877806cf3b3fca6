/**
 * Tenant attack corpus: raw GraphQL requests over HTTP against the GENERATED
 * example server (SQLite and PostgreSQL) from an attacker tenant (or with no /
 * a forged token) aimed at a victim tenant's data.
 *
 * Each case asserts, besides its own expected answer:
 *   - zero leak: nothing in the response carries a victim server id or value;
 *   - the victim's rows are unchanged (every synced table, compared in full);
 *   - a clear error where the request is refused: a GraphQL error with
 *     `extensions.code` and a message, or a per-item `errorCode` + `errorMessage`.
 * A read of another tenant's id answers `null` (the documented "not found" of a
 * nullable query), never the row.
 *
 * The media upload routes get their own cases (plain HTTP): another tenant's
 * file, traversal, forged entities and fields, missing or malformed tokens.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exampleDatabases, type RunningServer } from '../support/example-server.js';
import { SYNC_PULL as PULL, SYNC_PUSH as PUSH } from '../support/operations.js';

const databases = await exampleDatabases('tenant_attacks');

const VICTIM = 'victim';
const ATTACKER = 'attacker';
const SECRET = 'VICTIM-SECRET';


interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, any> }[] } | null;
}

interface Victim {
  space: { id: string; clientId: string };
  checklist: { id: string; clientId: string };
  item: { id: string; clientId: string };
  company: { id: string; clientId: string };
  group: { id: string; clientId: string };
  hero: { id: string; clientId: string };
  pullCursor: string;
  /** Partial sync: the victim tenant's project subtree. */
  project: { id: string; clientId: string };
  task: { id: string; clientId: string };
  /** A project of the ATTACKER's own tenant, private to another member (the read rule hides it from the attacker). */
  privateProject: { id: string; clientId: string };
  privateTask: { id: string; clientId: string };
  privateNote: { id: string; clientId: string };
}

interface Ctx {
  server: RunningServer;
  victim: Victim;
  /** The attacker's own Space (for update-based attacks). */
  own: { id: string; clientId: string };
  /** The attacker's own Task (in its own open project). */
  ownTask: { id: string; clientId: string };
  gql(query: string, variables?: Record<string, unknown>, auth?: string | null, raw?: string): Promise<Answer>;
}

type Check = (answer: Answer, ctx: Ctx) => void | Promise<void>;

interface AttackCase {
  name: string;
  /** Builds the request; `auth` defaults to the attacker's token. */
  request: (ctx: Ctx) => { query: string; variables?: Record<string, unknown>; auth?: string | null; raw?: string };
  expect: Check;
}

/** Prisma delegate and tenant column of every synced model of the example schema. */
const SYNCED_TABLES = [
  ['space', 'tenantId'],
  ['checklist', 'tenantId'],
  ['checklistItem', 'tenantId'],
  ['group', 'tenantId'],
  ['hero', 'tenantId'],
  ['company', 'workspaceId'],
  ['project', 'tenantId'],
  ['task', 'tenantId'],
  ['taskNote', 'tenantId'],
] as const;

// ------------------------------------------------------------------ expectations

/** A GraphQL error with one of `codes` and a non-empty message; no data for the failed field. */
const gqlError =
  (...codes: string[]): Check =>
  (answer) => {
    expect(answer.body?.errors?.length, `expected a GraphQL error ${codes.join('|')}, got ${answer.text.slice(0, 300)}`).toBeGreaterThan(0);
    const error = answer.body!.errors![0]!;
    expect(codes).toContain(error.extensions?.code);
    expect(error.message.length).toBeGreaterThan(5);
  };

/** syncPush answered per item; every item failed with `code` and a message. */
const itemError =
  (code: string): Check =>
  (answer) => {
    expect(answer.body?.errors, answer.text.slice(0, 300)).toBeUndefined();
    const results = answer.body!.data!.syncPush as any[];
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r, JSON.stringify(r)).toMatchObject({ success: false, errorCode: code });
      expect(String(r.errorMessage).length).toBeGreaterThan(5);
    }
  };

/** syncPush succeeded, and the row it wrote belongs to the attacker. */
const itemStoredForAttacker =
  (delegate: string, tenantField = 'tenantId'): Check =>
  async (answer, ctx) => {
    expect(answer.body?.errors, answer.text.slice(0, 300)).toBeUndefined();
    const [r] = answer.body!.data!.syncPush as any[];
    expect(r, JSON.stringify(r)).toMatchObject({ success: true });
    const row = await ctx.server.prisma[delegate].findUnique({ where: { id: r.id } });
    expect(row[tenantField]).toBe(ATTACKER);
  };

/** syncPull answered, with the attacker's rows only (every pulled id is a row of the attacker's tenant). */
const pulledOwnOnly: Check = async (answer, ctx) => {
  expect(answer.body?.errors, answer.text.slice(0, 300)).toBeUndefined();
  const pages = Object.values(answer.body!.data!).filter((v): v is { items: any[] } => typeof v === 'object' && v !== null && 'items' in v);
  expect(pages.length).toBeGreaterThan(0);
  for (const page of pages) {
    for (const item of page.items) {
      const owners = await Promise.all(
        SYNCED_TABLES.map(async ([delegate, field]) => (await ctx.server.prisma[delegate].findUnique({ where: { id: item.id } }))?.[field]),
      );
      expect(owners.filter(Boolean), `pulled ${item.id}`).toEqual([ATTACKER]);
    }
  }
};

/** A scoped pull answered as a revoked scope: nothing, and no way to tell a foreign root from a made-up one. */
const scopeRevoked: Check = (answer) => {
  expect(answer.body?.errors, answer.text.slice(0, 300)).toBeUndefined();
  expect(answer.body!.data!.syncPull).toMatchObject({ items: [], removals: [], scopeRevoked: true, hasMore: false });
};

/** A pull that must not carry the private project's subtree (rows the read rule hides in the attacker's own tenant). */
const withoutPrivate: Check = async (answer, ctx) => {
  await pulledOwnOnly(answer, ctx);
  const hidden = [ctx.victim.privateProject.id, ctx.victim.privateTask.id, ctx.victim.privateNote.id];
  for (const id of hidden) expect(answer.text).not.toContain(id);
};

const nullRead =
  (field: string): Check =>
  (answer) => {
    expect(answer.body?.errors, answer.text.slice(0, 300)).toBeUndefined();
    expect(answer.body!.data![field]).toBeNull();
  };

/** HTTP-level refusal (e.g. 413 for a body over the limit) or a GraphQL error. */
const refused =
  (status: number): Check =>
  (answer) => {
    if (answer.body?.errors?.length) {
      expect(answer.body.errors[0]!.message.length).toBeGreaterThan(5);
      return;
    }
    expect(answer.status).toBe(status);
    expect(answer.text.length).toBeGreaterThan(0);
  };

// ------------------------------------------------------------------ the corpus

const push = (entity: string, items: unknown[], auth?: string | null) => ({ query: PUSH, variables: { entity, items }, ...(auth !== undefined ? { auth } : {}) });
const pull = (entity: string, extra: Record<string, unknown> = {}, auth?: string | null) => ({
  query: PULL,
  variables: { entity, ...extra },
  ...(auth !== undefined ? { auth } : {}),
});
const now = () => new Date().toISOString();
const SCOPED_PULL = `query($entity: String!, $scope: ID) { syncPull(entity: $entity, scope: $scope) { items hasMore cursor removals { id clientId } scopeRevoked reset } }`;
const scopedPull = (entity: string, scope: string) => ({ query: SCOPED_PULL, variables: { entity, scope } });

const cases: AttackCase[] = [
  // --- another tenant's ids on every path
  { name: 'pull Space: only own rows', request: () => pull('Space'), expect: pulledOwnOnly },
  { name: 'pull every entity through aliases in one request', request: () => ({
      query: `{ a: syncPull(entity: "Space") { items } b: syncPull(entity: "Checklist") { items } c: syncPull(entity: "ChecklistItem") { items }
        d: syncPull(entity: "Company") { items } e: syncPull(entity: "Group") { items } f: syncPull(entity: "Hero") { items } }`,
    }), expect: pulledOwnOnly },
  { name: "pull with the victim's own cursor", request: (c) => pull('Space', { cursor: c.victim.pullCursor }), expect: pulledOwnOnly },
  { name: 'pull since the epoch with the maximum limit', request: () => pull('Checklist', { since: '1970-01-01T00:00:00.000Z', limit: 1000 }), expect: pulledOwnOnly },
  { name: "push update of the victim's Space by id", request: (c) => push('Space', [{ id: c.victim.space.id, version: 1, name: 'pwned', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: "push update of the victim's Space by clientId only", request: (c) => push('Space', [{ clientId: c.victim.space.clientId, version: 1, name: 'pwned', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: "push delete of the victim's Checklist", request: (c) => push('Checklist', [{ id: c.victim.checklist.id, version: 1, deletedAt: now(), updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: "push delete of the victim's ChecklistItem by clientId (no version: offline create+delete)", request: (c) => push('ChecklistItem', [{ clientId: c.victim.item.clientId, deletedAt: now(), updatedAt: now() }]), expect: (a, c) => {
      // the attacker never created it: success with id null, and the victim's row is untouched (checked for every case)
      const [r] = a.body!.data!.syncPush as any[];
      expect(r.id === null || r.success === false).toBe(true);
    } },
  { name: "push update of the victim's Company (tenant field workspaceId)", request: (c) => push('Company', [{ id: c.victim.company.id, version: 1, name: 'pwned', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: "push update of the victim's Hero (clientWins would apply any stale base)", request: (c) => push('Hero', [{ id: c.victim.hero.id, version: 0, name: 'pwned', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: "CRUD get of the victim's Space", request: (c) => ({ query: `query($id: ID!) { space(id: $id) { id name } }`, variables: { id: c.victim.space.id } }), expect: nullRead('space') },
  { name: "CRUD get of the victim's Company", request: (c) => ({ query: `query($id: ID!) { company(id: $id) { id name } }`, variables: { id: c.victim.company.id } }), expect: nullRead('company') },
  { name: "CRUD update of the victim's Group", request: (c) => ({ query: `mutation($id: ID!) { updateGroup(id: $id, expectedVersion: 1, input: { name: "pwned" }) { id } }`, variables: { id: c.victim.group.id } }), expect: gqlError('NOT_FOUND') },
  { name: "CRUD delete of the victim's Hero", request: (c) => ({ query: `mutation($id: ID!) { deleteHero(id: $id, expectedVersion: 1) { id } }`, variables: { id: c.victim.hero.id } }), expect: gqlError('NOT_FOUND') },
  { name: 'CRUD list returns own rows only', request: () => ({ query: `{ spaces(limit: 1000) { items { id name } nextCursor } }` }), expect: (a) => {
      expect(a.body?.errors).toBeUndefined();
    } },
  // --- foreign keys into the other tenant
  { name: "push create of a Checklist under the victim's Space id", request: (c) => push('Checklist', [{ clientId: randomUUID(), title: 't', spaceId: c.victim.space.id, updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: "push create of a ChecklistItem under the victim's Checklist clientId", request: (c) => push('ChecklistItem', [{ clientId: randomUUID(), label: 'l', checklistId: c.victim.checklist.clientId, updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: "push create of a Group under the victim's Space", request: (c) => push('Group', [{ clientId: randomUUID(), name: 'g', spaceId: c.victim.space.id, updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: "CRUD create of a Checklist under the victim's Space", request: (c) => ({ query: `mutation($s: String) { createChecklist(input: { title: "x", spaceId: $s }) { id } }`, variables: { s: c.victim.space.id } }), expect: gqlError('VALIDATION_FAILED') },
  // --- clientId collisions and ids chosen by the client
  { name: "push create reusing the victim's clientId: a separate attacker row", request: (c) => push('Space', [{ clientId: c.victim.space.clientId, name: 'mine', ownerId: 'a' }]), expect: async (a, c) => {
      await itemStoredForAttacker('space')(a, c);
      expect((a.body!.data!.syncPush as any[])[0].id).not.toBe(c.victim.space.id);
    } },
  { name: "push create carrying the victim's id as id", request: (c) => push('Hero', [{ clientId: randomUUID(), id: c.victim.hero.id, name: 'mine' }]), expect: (a, c) => {
      const [r] = a.body!.data!.syncPush as any[];
      // refused, or created under a server-chosen id: never written over the victim's row (checked for every case)
      if (r.success) expect([null, c.victim.hero.id]).not.toContain(r.id);
      else expect(String(r.errorMessage).length).toBeGreaterThan(5);
    } },
  // --- tenant fields in the payload
  { name: 'push create with tenantId of the victim: stored for the attacker', request: () => push('Space', [{ clientId: randomUUID(), name: 'x', ownerId: 'a', tenantId: VICTIM }]), expect: itemStoredForAttacker('space') },
  { name: 'push create of a Company with workspaceId of the victim: stored for the attacker', request: () => push('Company', [{ clientId: randomUUID(), name: 'x', workspaceId: VICTIM }]), expect: itemStoredForAttacker('company', 'workspaceId') },
  { name: 'push update of an own Space setting tenantId to the victim: ignored', request: (c) => push('Space', [{ id: c.own.id, version: 1, tenantId: VICTIM, updatedAt: now() }]), expect: async (a, c) => {
      expect(a.body?.errors).toBeUndefined();
      expect((await c.server.prisma.space.findUnique({ where: { id: c.own.id } })).tenantId).toBe(ATTACKER);
    } },
  { name: 'push create with a __proto__ carrying tenantId', request: () => ({ ...push('Space', []), raw: `{"query":${JSON.stringify(PUSH)},"variables":{"entity":"Space","items":[{"clientId":"${randomUUID()}","name":"p","ownerId":"a","__proto__":{"tenantId":"${VICTIM}"}}]}}` }), expect: async (a, c) => {
      const [r] = a.body!.data!.syncPush as any[];
      if (!r.success) expect(r.errorCode).toBe('VALIDATION_FAILED');
      else expect((await c.server.prisma.space.findUnique({ where: { id: r.id } })).tenantId).toBe(ATTACKER);
    } },
  { name: 'CRUD create with a tenantId input field', request: () => ({ query: `mutation { createSpace(input: { name: "x", ownerId: "a", tenantId: "${VICTIM}" }) { id } }` }), expect: gqlError('GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT') },
  // --- forged entity names
  ...['AuditLog', 'space', 'Space ', '__proto__', 'constructor', 'Space"; DROP TABLE "Space"; --', 'x'.repeat(10_000)].map(
    (entity): AttackCase => ({
      name: `pull of forged entity name ${JSON.stringify(entity.slice(0, 40))}${entity.length > 40 ? '...' : ''}`,
      request: () => pull(entity),
      expect: gqlError('UNKNOWN_ENTITY'),
    }),
  ),
  { name: 'push to the server-only AuditLog model', request: () => push('AuditLog', [{ clientId: randomUUID(), action: 'x' }]), expect: gqlError('UNKNOWN_ENTITY') },
  // --- injection attempts in arguments
  { name: "SQL in a pushed id: ' OR '1'='1", request: () => push('Space', [{ id: "' OR '1'='1", version: 1, name: 'x', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: 'SQL in a pushed value is stored as text', request: () => push('Space', [{ clientId: randomUUID(), name: `x'); DELETE FROM "Space"; --`, ownerId: 'a' }]), expect: itemStoredForAttacker('space') },
  { name: 'a Prisma operator object as id: { not: "" }', request: () => push('Space', [{ id: { not: '' }, version: 1, name: 'x', updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'a Prisma operator object as clientId: { in: [...] }', request: (c) => push('Space', [{ clientId: { in: [c.victim.space.clientId] }, version: 1, name: 'x' }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'an operator object as a foreign key', request: () => push('Checklist', [{ clientId: randomUUID(), title: 'x', spaceId: { contains: '' } }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'SQL in the since argument', request: () => pull('Space', { since: "2020-01-01' OR 1=1 --" }), expect: gqlError('BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED') },
  { name: 'a forged cursor', request: () => pull('Space', { cursor: Buffer.from(JSON.stringify({ tenantId: VICTIM, id: null })).toString('base64url') }), expect: gqlError('INVALID_CURSOR') },
  { name: 'a self-referencing fragment', request: () => ({ query: `query { syncPull(entity: "Space") { ...A } } fragment A on SyncPullResponse { items ...A }` }), expect: gqlError('GRAPHQL_VALIDATION_FAILED') },
  { name: '__typename and introspection do not reach data', request: () => ({ query: `{ __typename __type(name: "Space") { name } a: syncPull(entity: "Space") { __typename items } }` }), expect: pulledOwnOnly },
  { name: 'a 200 kB string value', request: () => push('Space', [{ clientId: randomUUID(), name: 'x'.repeat(200_000), ownerId: 'a' }]), expect: (a) => {
      expect(a.body?.errors).toBeUndefined();
      const [r] = a.body!.data!.syncPush as any[];
      expect(typeof r.success).toBe('boolean');
    } },
  // --- oversized limits and batches
  { name: 'pull limit over the maximum', request: () => pull('Space', { limit: 1_000_000 }), expect: gqlError('INVALID_LIMIT') },
  { name: 'pull limit 0', request: () => pull('Space', { limit: 0 }), expect: gqlError('INVALID_LIMIT') },
  { name: 'pull limit -1', request: () => pull('Space', { limit: -1 }), expect: gqlError('INVALID_LIMIT') },
  { name: 'pull limit beyond 32-bit Int', request: () => pull('Space', { limit: 2 ** 40 }), expect: gqlError('BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED') },
  { name: 'CRUD list limit over the maximum', request: () => ({ query: `{ heroes(limit: 100000) { items { id } } }` }), expect: gqlError('INVALID_LIMIT') },
  { name: 'push batch of 1001 items', request: () => push('Hero', Array.from({ length: 1001 }, () => ({ clientId: randomUUID(), name: 'h' }))), expect: gqlError('BATCH_TOO_LARGE') },
  { name: 'a request body over the server limit', request: () => ({ ...push('Hero', []), raw: JSON.stringify({ query: PUSH, variables: { entity: 'Hero', items: [{ name: 'x'.repeat(40_000_000) }] } }) }), expect: refused(413) },
  // --- partial sync: scopes and read rules
  { name: "scoped pull of Task under the victim's project", request: (c) => scopedPull('Task', c.victim.project.id), expect: scopeRevoked },
  { name: "scoped pull of TaskNote under the victim's project (two hops)", request: (c) => scopedPull('TaskNote', c.victim.project.id), expect: scopeRevoked },
  { name: "scoped pull of Task under the victim's project by its clientId", request: (c) => scopedPull('Task', c.victim.project.clientId), expect: scopeRevoked },
  { name: 'scoped pull of Task under a guessed project id', request: () => scopedPull('Task', randomUUID()), expect: scopeRevoked },
  { name: "scoped pull of Task under the victim's task id (a root of the wrong entity)", request: (c) => scopedPull('Task', c.victim.task.id), expect: scopeRevoked },
  { name: 'scoped pull under a private project of the own tenant (not a member)', request: (c) => scopedPull('Task', c.victim.privateProject.id), expect: scopeRevoked },
  { name: 'scoped pull of TaskNote under a private project of the own tenant', request: (c) => scopedPull('TaskNote', c.victim.privateProject.id), expect: scopeRevoked },
  { name: 'tenant-wide pull of Project, Task and TaskNote: neither the victim nor the private project', request: () => ({
      query: `{ a: syncPull(entity: "Project") { items } b: syncPull(entity: "Task") { items } c: syncPull(entity: "TaskNote") { items } }`,
    }), expect: withoutPrivate },
  { name: 'scoped pull with a scope on an entity not synced by scope', request: (c) => scopedPull('Project', c.victim.project.id), expect: gqlError('INVALID_SCOPE') },
  { name: 'push update of a task in a private project of the own tenant', request: (c) => push('Task', [{ id: c.victim.privateTask.id, version: 1, title: 'pwned', updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: 'push delete of a note in a private project by clientId', request: (c) => push('TaskNote', [{ clientId: c.victim.privateNote.clientId, version: 1, deletedAt: now(), updatedAt: now() }]), expect: itemError('NOT_FOUND') },
  { name: 'push create of a Task into a private project of the own tenant', request: (c) => push('Task', [{ clientId: randomUUID(), title: 'sneak', projectId: c.victim.privateProject.id }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'push create of a TaskNote under a private task (by its clientId)', request: (c) => push('TaskNote', [{ clientId: randomUUID(), body: 'sneak', taskId: c.victim.privateTask.clientId }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'push moving an own task into a private project', request: (c) => push('Task', [{ id: c.ownTask.id, version: 1, projectId: c.victim.privateProject.id, updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: "push moving an own task into the victim's project", request: (c) => push('Task', [{ id: c.ownTask.id, version: 1, projectId: c.victim.project.id, updatedAt: now() }]), expect: itemError('VALIDATION_FAILED') },
  { name: 'CRUD get of a task in a private project', request: (c) => ({ query: `query($id: ID!) { task(id: $id) { id title } }`, variables: { id: c.victim.privateTask.id } }), expect: nullRead('task') },
  { name: 'CRUD update of a private project', request: (c) => ({ query: `mutation($id: ID!) { updateProject(id: $id, expectedVersion: 1, input: { name: "pwned" }) { id } }`, variables: { id: c.victim.privateProject.id } }), expect: gqlError('NOT_FOUND') },
  { name: 'CRUD list of tasks leaves the private project out', request: () => ({ query: `{ tasks(limit: 1000) { items { id title } } }` }), expect: (a, c) => {
      expect(a.body?.errors).toBeUndefined();
      expect(a.text).not.toContain(c.victim.privateTask.id);
    } },
  // --- missing / forged tokens
  { name: 'no token: pull', request: () => pull('Space', {}, null), expect: gqlError('UNAUTHENTICATED') },
  { name: 'no token: push', request: () => push('Space', [{ clientId: randomUUID(), name: 'x', ownerId: 'a' }], null), expect: gqlError('UNAUTHENTICATED') },
  { name: 'no token: CRUD get', request: (c) => ({ query: `query($id: ID!) { space(id: $id) { id } }`, variables: { id: c.victim.space.id }, auth: null }), expect: gqlError('UNAUTHENTICATED') },
  { name: 'malformed token with an extra segment', request: () => pull('Space', {}, `Bearer dev:${VICTIM}:u:admin`), expect: gqlError('UNAUTHENTICATED') },
  { name: 'empty tenant in the token', request: () => pull('Space', {}, 'Bearer dev::u'), expect: gqlError('UNAUTHENTICATED') },
  { name: 'Basic instead of Bearer', request: () => pull('Space', {}, `Basic ${Buffer.from(`${VICTIM}:x`).toString('base64')}`), expect: gqlError('UNAUTHENTICATED') },
  { name: 'two tokens in one header', request: () => pull('Space', {}, `Bearer dev:${ATTACKER}:u Bearer dev:${VICTIM}:u`), expect: gqlError('UNAUTHENTICATED') },
];

// ------------------------------------------------------------------ media uploads (plain HTTP)

interface UploadAttack {
  name: string;
  /** Builds the request against the server's uploads base URL. */
  request: (ctx: Ctx & { uploads: string; victimFile: string }) => { method: 'GET' | 'POST'; path: string; auth?: string | null; body?: FormData; headers?: Record<string, string> };
  status: number;
  code?: string;
}

const photoForm = (bytes: Buffer): FormData => {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'p.png');
  return form;
};
const VICTIM_PHOTO = Buffer.from(`${SECRET} photo bytes`.repeat(64));

const uploadCases: UploadAttack[] = [
  { name: "GET of the victim's file by its hash", request: (c) => ({ method: 'GET', path: `/${c.victimFile}` }), status: 404, code: 'NOT_FOUND' },
  { name: "GET of the victim's file with a tenant header", request: (c) => ({ method: 'GET', path: `/${c.victimFile}`, headers: { 'x-tenant-id': VICTIM, 'x-trackhub-tenant': VICTIM } }), status: 404, code: 'NOT_FOUND' },
  { name: "GET through a path traversal to the victim's directory", request: (c) => ({ method: 'GET', path: `/..%2F${VICTIM}%2F${c.victimFile}` }), status: 404 },
  { name: 'GET of the metadata file next to a hash', request: (c) => ({ method: 'GET', path: `/${c.victimFile}.json` }), status: 404 },
  { name: "GET of the victim's file without a token", request: (c) => ({ method: 'GET', path: `/${c.victimFile}`, auth: null }), status: 401, code: 'UNAUTHENTICATED' },
  { name: "GET of the victim's file with the victim's tenant in a malformed token", request: (c) => ({ method: 'GET', path: `/${c.victimFile}`, auth: `Bearer dev:${VICTIM}` }), status: 401, code: 'UNAUTHENTICATED' },
  { name: 'POST to a server-only model field', request: () => ({ method: 'POST', path: '/AuditLog/action', body: photoForm(Buffer.from('x')) }), status: 404, code: 'UNKNOWN_MEDIA_FIELD' },
  { name: 'POST to a forged entity name', request: () => ({ method: 'POST', path: '/__proto__/coverUrl', body: photoForm(Buffer.from('x')) }), status: 404, code: 'UNKNOWN_MEDIA_FIELD' },
  { name: 'POST to a non-media field', request: () => ({ method: 'POST', path: '/Space/tenantId', body: photoForm(Buffer.from('x')) }), status: 404, code: 'UNKNOWN_MEDIA_FIELD' },
  { name: "POST of the victim's exact bytes: the attacker's own copy, no access to the victim's", request: () => ({ method: 'POST', path: '/Space/coverUrl', body: photoForm(VICTIM_PHOTO) }), status: 201 },
];

// ------------------------------------------------------------------ suite

const VICTIM_TABLES: (readonly [string, string])[] = [...SYNCED_TABLES, ['auditLog', 'tenantId']];

describe.each(databases)('tenant attack corpus on $name', ({ start }) => {
  let ctx: Ctx;
  let snapshot: string;
  let secrets: string[];
  let uploads: string;
  let victimFile: string;

  const victimRows = async (): Promise<string> => {
    const out: Record<string, unknown> = {};
    for (const [delegate, field] of VICTIM_TABLES)
      out[delegate] = await ctx.server.prisma[delegate].findMany({ where: { [field]: VICTIM }, orderBy: { id: 'asc' } });
    // The private project's subtree in the attacker's own tenant, which the read rule hides from the attacker.
    const { privateProject, privateTask, privateNote } = ctx.victim;
    out.private = [
      await ctx.server.prisma.project.findUnique({ where: { id: privateProject.id } }),
      await ctx.server.prisma.task.findMany({ where: { projectId: privateProject.id }, orderBy: { id: 'asc' } }),
      await ctx.server.prisma.taskNote.findUnique({ where: { id: privateNote.id } }),
      privateTask.id,
    ];
    return JSON.stringify(out);
  };

  beforeAll(async () => {
    const server = await start();
    const gql: Ctx['gql'] = async (query, variables = {}, auth = `Bearer dev:${ATTACKER}:mallory`, raw) => {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: raw ?? JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      let body: Answer['body'] = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      return { status: res.status, text, body };
    };
    const seed = async (tenant: string, entity: string, fields: Record<string, unknown>) => {
      const clientId = randomUUID();
      const answer = await gql(PUSH, { entity, items: [{ clientId, ...fields }] }, `Bearer dev:${tenant}:u`);
      const [r] = answer.body!.data!.syncPush as any[];
      expect(r, JSON.stringify(r)).toMatchObject({ success: true });
      return { id: r.id as string, clientId };
    };
    const space = await seed(VICTIM, 'Space', { name: `${SECRET} space`, ownerId: 'victim-owner' });
    const checklist = await seed(VICTIM, 'Checklist', { title: `${SECRET} list`, spaceId: space.id, metadata: { secret: SECRET } });
    const item = await seed(VICTIM, 'ChecklistItem', { label: `${SECRET} item`, checklistId: checklist.id });
    const company = await seed(VICTIM, 'Company', { name: `${SECRET} co`, website: 'https://victim.example' });
    const group = await seed(VICTIM, 'Group', { name: `${SECRET} group`, spaceId: space.id });
    const hero = await seed(VICTIM, 'Hero', { name: `${SECRET} hero`, profile: { secret: SECRET } });
    await server.prisma.auditLog.create({ data: { tenantId: VICTIM, action: `${SECRET} audit` } });
    const victimPull = await gql(PULL, { entity: 'Space', limit: 1 }, `Bearer dev:${VICTIM}:u`);
    const project = await seed(VICTIM, 'Project', { name: `${SECRET} project` });
    const task = await seed(VICTIM, 'Task', { title: `${SECRET} task`, projectId: project.id });
    await seed(VICTIM, 'TaskNote', { body: `${SECRET} note`, taskId: task.id });
    const own = await seed(ATTACKER, 'Space', { name: 'attacker space', ownerId: 'mallory' });
    await seed(ATTACKER, 'Checklist', { title: 'attacker list', spaceId: own.id });
    const ownProject = await seed(ATTACKER, 'Project', { name: 'attacker project' });
    const ownTask = await seed(ATTACKER, 'Task', { title: 'attacker task', projectId: ownProject.id });
    // A project of the attacker's tenant that only alice may see.
    const privateProject = await seed(ATTACKER, 'Project', { name: `${SECRET} private project` });
    const privateTask = await seed(ATTACKER, 'Task', { title: `${SECRET} private task`, projectId: privateProject.id });
    const privateNote = await seed(ATTACKER, 'TaskNote', { body: `${SECRET} private note`, taskId: privateTask.id });
    await server.prisma.projectMember.create({ data: { tenantId: ATTACKER, projectId: privateProject.id, userId: 'alice' } });
    ctx = {
      server,
      gql,
      own,
      ownTask,
      victim: { space, checklist, item, company, group, hero, pullCursor: victimPull.body!.data!.syncPull.cursor, project, task, privateProject, privateTask, privateNote },
    };
    // Server ids and values. (ClientIds are chosen by devices: the attacker may legitimately own a row
    // with the same clientId, see the collision case; a leaked victim row would still show its values.)
    secrets = [SECRET, ...[space, checklist, item, company, group, hero, project, task, privateProject, privateTask, privateNote].map((r) => r.id)];
    uploads = server.url.replace(/\/graphql$/, '/uploads');
    const stored = await fetch(`${uploads}/Space/coverUrl`, { method: 'POST', headers: { authorization: `Bearer dev:${VICTIM}:u` }, body: photoForm(VICTIM_PHOTO) });
    expect(stored.status).toBe(201);
    victimFile = ((await stored.json()) as { sha256: string }).sha256;
    snapshot = await victimRows();
  });
  afterAll(async () => {
    await ctx?.server.stop();
  });

  it('the corpus has at least 30 attacks', () => {
    expect(cases.length + uploadCases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(uploadCases.map((c) => [c.name, c] as const))('upload: %s', async (_name, attack) => {
    const { method, path, auth, body, headers } = attack.request({ ...ctx, uploads, victimFile });
    const token = auth === undefined ? `Bearer dev:${ATTACKER}:mallory` : auth;
    const res = await fetch(`${uploads}${path}`, { method, body, headers: { ...headers, ...(token ? { authorization: token } : {}) } });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status, bytes.toString('utf8').slice(0, 300)).toBe(attack.status);
    // zero leak: never the victim's bytes, never a victim value
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    if (attack.code) {
      const answer = JSON.parse(bytes.toString('utf8')) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe(attack.code);
      expect(answer.error.message.length).toBeGreaterThan(5);
    }
    // the victim still has (only) its own file, byte for byte
    const own = await fetch(`${uploads}/${victimFile}`, { headers: { authorization: `Bearer dev:${VICTIM}:u` } });
    expect(own.status).toBe(200);
    expect(Buffer.from(await own.arrayBuffer()).equals(VICTIM_PHOTO)).toBe(true);
    expect(await victimRows()).toBe(snapshot);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, attack) => {
    const { query, variables, auth, raw } = attack.request(ctx);
    const answer = await ctx.gql(query, variables, auth === undefined ? undefined : auth, raw);
    await attack.expect(answer, ctx);
    // zero leak: no victim id or value in the answer (an id the attacker sent may be echoed in the error)
    const sent = raw ?? JSON.stringify(variables ?? {});
    for (const secret of secrets) {
      if (sent.includes(secret)) continue;
      expect(answer.text.includes(secret), `the answer leaks ${secret}: ${answer.text.slice(0, 300)}`).toBe(false);
    }
    if (!sent.includes(SECRET)) expect(answer.text).not.toContain(SECRET);
    // the victim's rows are unchanged
    expect(await victimRows()).toBe(snapshot);
  });
});
