/**
 * The typed online operations GraphQL Code Generator emits
 * (generated-example/client/generated/operations.ts) against the generated server
 * on SQLite: the client's online paths (createOnline, getOnline, listOnline) go
 * through them, and an app can send the TypedDocumentNodes with any GraphQL client
 * (here: graphql-js `print` and fetch).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import {
  CreateSpaceDocument,
  GetSpaceDocument,
  ListSpacesDocument,
  type CreateSpaceMutation,
  type GetSpaceQuery,
  type GetSpaceQueryVariables,
} from '../../generated-example/client/generated/operations.js';
import { operationSources } from '../../generated-example/client/generated/operation-sources.js';
import { planProject } from '../../src/generate.js';
import { loadProject } from '../../src/model/build.js';
import { startExampleServer, type RunningServer } from '../support/example-server.js';

describe('typed online operations (GraphQL Code Generator) on SQLite', () => {
  let server: RunningServer;
  const dirs: string[] = [];
  const clients: OfflineFirstClient[] = [];

  beforeAll(async () => {
    server = await startExampleServer({ provider: 'sqlite' });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function device(tenant: string): OfflineFirstClient {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-typed-ops-'));
    dirs.push(dir);
    const client = createClient({ tenantId: tenant, url: server.url, token: `dev:${tenant}:ann`, dbDir: dir });
    clients.push(client);
    return client;
  }

  /** Any GraphQL client: here a plain fetch of the printed TypedDocumentNode. */
  async function send<TData, TVars>(document: { __apiType?: (v: TVars) => TData }, variables: TVars, tenant: string): Promise<TData> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer dev:${tenant}:ann` },
      body: JSON.stringify({ query: print(document as never), variables }),
    });
    const body = (await res.json()) as { data?: TData; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data!;
  }

  it('createOnline, getOnline and listOnline send the generated documents and store the answers locally', async () => {
    const a = device('typed-a');
    const sent: string[] = [];
    const original = a.transport.request.bind(a.transport);
    a.transport.request = ((query: string, variables?: Record<string, unknown>) => {
      sent.push(query);
      return original(query, variables);
    }) as typeof a.transport.request;

    const created = await a.spaces.createOnline({ name: 'Online one', ownerId: 'ann' });
    expect(created.serverId).toEqual(expect.any(String));
    expect(sent).toEqual([operationSources.CreateSpace]);

    // Another device creates; this one reads it online without a sync.
    const b = device('typed-a');
    const other = await b.spaces.createOnline({ name: 'Online two', ownerId: 'ann' });
    const fetched = await a.spaces.getOnline(other.serverId);
    expect(fetched).toMatchObject({ name: 'Online two', serverId: other.serverId });
    expect(await a.spaces.get(fetched!.id)).toMatchObject({ name: 'Online two' });
    expect(await a.spaces.getOnline('00000000-0000-7000-8000-000000000000')).toBeNull();

    const page = await a.spaces.listOnline({ limit: 10 });
    expect(page.items.map((s) => s.name).sort()).toEqual(['Online one', 'Online two']);
    expect(page.nextCursor).toBeNull();
    expect(sent).toEqual([operationSources.CreateSpace, operationSources.GetSpace, operationSources.GetSpace, operationSources.ListSpaces]);
    expect(await a.queueSize()).toBe(0);
  });

  it('the TypedDocumentNodes work with any client, typed end to end', async () => {
    const tenant = 'typed-b';
    const created: CreateSpaceMutation = await send(CreateSpaceDocument, { input: { name: 'Typed', ownerId: 'ann', clientId: null } }, tenant);
    const vars: GetSpaceQueryVariables = { id: created.createSpace.id };
    const got: GetSpaceQuery = await send(GetSpaceDocument, vars, tenant);
    expect(got.space).toMatchObject({ id: created.createSpace.id, name: 'Typed', kind: 'TEAM', version: 1 });
    const list = await send(ListSpacesDocument, { limit: 5 }, tenant);
    expect(list.spaces.items.map((s) => s.name)).toEqual(['Typed']);
  });

  it('generate emits them deterministically (same bytes twice) from the committed SDL', async () => {
    const schema = path.resolve('fixtures/trackhub/schema.prisma');
    const options = { runtimeServer: 'trackhub-gen/runtime/server', runtimeClient: 'trackhub-gen/runtime/client' };
    const planOf = async () => ({ plan: await planProject(await loadProject(schema), options) });
    const [one, two] = await Promise.all([planOf(), planOf()]);
    const pick = (plan: { path: string; content: string }[]) =>
      plan.filter((f) => /^(client\/generated\/operation(s|-sources)\.ts|graphql\/operations\.graphql)$/.test(f.path));
    expect(pick(one.plan)).toHaveLength(3);
    expect(pick(one.plan)).toEqual(pick(two.plan));
    expect(one.plan.find((f) => f.path === 'client/generated/operations.ts')!.content).toContain('TypedDocumentNode');
  });
});
