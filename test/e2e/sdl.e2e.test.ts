import { readFileSync } from 'node:fs';

import { buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startExampleServer, type RunningServer } from '../support/example-server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startExampleServer({ provider: 'sqlite' });
});
afterAll(async () => server?.stop());

const canonical = (sdl: string): string => printSchema(lexicographicSortSchema(buildSchema(sdl)));

describe('graphql/schema.graphql', () => {
  it('is exactly the schema the generated server serves (introspected over HTTP)', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery() }),
    });
    const { data } = (await res.json()) as { data: Parameters<typeof buildClientSchema>[0] };
    const served = printSchema(lexicographicSortSchema(buildClientSchema(data)));
    const emitted = readFileSync('generated-example/graphql/schema.graphql', 'utf8');
    expect(canonical(emitted)).toBe(canonical(served));
  });

  it('keeps the seed\'s sync API signature exactly', () => {
    const schema = buildSchema(readFileSync('generated-example/graphql/schema.graphql', 'utf8'));
    const pull = schema.getQueryType()!.getFields().syncPull;
    expect(pull.type.toString()).toBe('SyncPullResponse!');
    expect(pull.args.map((a) => `${a.name}: ${a.type}${a.defaultValue !== undefined ? ` = ${a.defaultValue}` : ''}`)).toEqual(
      expect.arrayContaining(['entity: String!', 'since: DateTime', 'limit: Int = 1000']),
    );
    const push = schema.getMutationType()!.getFields().syncPush;
    expect(push.type.toString()).toBe('[SyncResultItem!]!');
    expect(push.args.map((a) => `${a.name}: ${a.type}`)).toEqual(['entity: String!', 'items: [JSON!]!']);
  });
});
