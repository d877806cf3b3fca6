import { describe, expect, it } from 'vitest';

import { GraphQLTransport, NetworkError, type FetchLike } from '../../src/runtime/client/transport.js';

const ok = (data: unknown) => ({ ok: true, status: 200, text: async () => JSON.stringify({ data }) });
const socketError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code }) });

describe('GraphQLTransport', () => {
  it('sends a request again once when a kept-alive connection turns out to be closed', async () => {
    const calls: string[] = [];
    const fetch: FetchLike = async (_url, init) => {
      calls.push(init.body);
      if (calls.length === 1) throw socketError('ECONNRESET');
      return ok({ syncPull: { items: [], lastSyncAt: '2026-01-01T00:00:00.000Z', hasMore: false, cursor: 'c' } });
    };
    const transport = new GraphQLTransport({ url: 'http://127.0.0.1:1/graphql', token: 'dev:t:u', fetch });
    const page = await transport.syncPull({ entity: 'Space' });
    expect(page.hasMore).toBe(false);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toBe(calls[0]);
  });

  it('does not retry other network failures, nor a second stale connection', async () => {
    let calls = 0;
    const offline = new GraphQLTransport({ url: 'http://x/graphql', fetch: async () => { calls++; throw new TypeError('fetch failed'); } });
    await expect(offline.syncPull({ entity: 'Space' })).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toBe(1);
    calls = 0;
    const flapping = new GraphQLTransport({ url: 'http://x/graphql', fetch: async () => { calls++; throw socketError('UND_ERR_SOCKET'); } });
    await expect(flapping.syncPull({ entity: 'Space' })).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toBe(2);
  });
});
