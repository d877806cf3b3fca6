/**
 * A fault the server did not mean to answer with (here: a table gone from
 * under a running server) reaches the client as `INTERNAL` with no message,
 * stack or database details, on syncPull, syncPush and the online CRUD path.
 * The fault is logged on the server with its real cause and counted in
 * `trackhub_internal_errors_total`; deliberate answers are unchanged.
 */
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { METRIC } from '../../src/runtime/server/index.js';
import { exampleDatabases, postGraphql, type RunningServer } from '../support/example-server.js';
import { sample, parseExposition } from '../support/prometheus.js';

const databases = await exampleDatabases('fault_masking');
/** What a leaked database error or stack would carry (the renamed table, driver words, file paths). */
const LEAKS = /SpaceGone|table|relation|prisma|sqlite|postgres|does not exist|stacktrace|\.[jt]s:\d/i;

describe.each(databases)('request faults on $name', ({ start }) => {
  let server: RunningServer;
  const logged: string[] = [];

  beforeAll(async () => {
    server = await start();
    vi.spyOn(Logger.prototype, 'error').mockImplementation(function (this: Logger, ...args: unknown[]) {
      logged.push(args.map(String).join(' '));
    });
    await server.prisma.$executeRawUnsafe('ALTER TABLE "Space" RENAME TO "SpaceGone"');
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.stop();
  });

  const internalErrors = async (): Promise<number> => {
    const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
    return sample(parseExposition(text), METRIC.internalErrors);
  };

  it('syncPull answers INTERNAL with no details, logs the cause and counts it', async () => {
    const before = await internalErrors();
    const res = await postGraphql(server.url, '{ syncPull(entity: "Space") { items hasMore } }', {}, 'dev:t1:u1');
    expect(res.data).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0].message).toBe('Internal server error');
    expect(res.errors[0].extensions).toEqual({ code: 'INTERNAL' });
    expect(JSON.stringify(res)).not.toMatch(LEAKS);
    expect(await internalErrors()).toBe(before + 1);
    expect(logged.some((line) => /internal fault in syncPull\(Space\)/.test(line) && /Space/.test(line))).toBe(true);
  });

  it('an online CRUD read answers INTERNAL with no details', async () => {
    const before = await internalErrors();
    const res = await postGraphql(server.url, '{ space(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, 'dev:t1:u1');
    expect(res.errors[0].message).toBe('Internal server error');
    expect(res.errors[0].extensions).toEqual({ code: 'INTERNAL' });
    expect(JSON.stringify(res)).not.toMatch(LEAKS);
    expect(await internalErrors()).toBe(before + 1);
  });

  it('syncPush reports INTERNAL per item without the database message', async () => {
    const res = await postGraphql(
      server.url,
      'mutation($items: [JSON!]!) { syncPush(entity: "Space", items: $items) { clientId success errorCode errorMessage } }',
      { items: [{ clientId: '0190a5c0-0000-7000-8000-00000000000a', name: 'x', ownerId: 'u1' }] },
      'dev:t1:u1',
    );
    const results = res.data?.syncPush ?? [];
    const codes = [...results.map((r: { errorCode: string }) => r.errorCode), ...(res.errors ?? []).map((e: { extensions: { code: string } }) => e.extensions.code)];
    expect(codes).toContain('INTERNAL');
    expect(JSON.stringify(res)).not.toMatch(LEAKS);
  });

  it('deliberate answers are not masked', async () => {
    const res = await postGraphql(server.url, '{ syncPull(entity: "Nope") { items } }', {}, 'dev:t1:u1');
    expect(res.errors[0].extensions.code).toBe('UNKNOWN_ENTITY');
    const unauth = await postGraphql(server.url, '{ syncPull(entity: "Group") { items } }');
    expect(unauth.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const invalid = await postGraphql(server.url, '{ syncPull(entity: 3) { items } }', {}, 'dev:t1:u1');
    expect(invalid.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
