/**
 * Tokens, end to end: the generated server with a real JWT verifier (jose,
 * HS256 and a JWKS served on loopback) and real WatermelonDB devices.
 *
 * - a token that expires in the middle of a sync: the device calls
 *   refreshToken once, retries, and the sync completes with nothing lost;
 * - an upload whose token expired: the uploader calls refreshToken once and retries;
 * - a refresh that fails: sync stops in `authRequired` (worker paused, metrics,
 *   events), queued changes wait untouched, and a new token resumes it;
 * - the server refuses to start with a verifier that accepts dev tokens, unless
 *   they are enabled on purpose.
 *
 * The only fake is the verifier's injected clock (moved to expire tokens).
 * SQLite, and PostgreSQL when available.
 */
import 'reflect-metadata';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { INestApplication } from '@nestjs/common';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrackhubServer,
  devTokenVerifier,
  jwtVerifier,
  type TokenVerifier,
} from 'trackhub-gen/runtime/server';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { TrackhubModule } from '../../generated-example/server/generated/trackhub.module.js';
import { createExamplePrismaClient } from '../../src/prisma/client-factory.js';
import { AuthRequiredError, httpUploader, SyncWorker, uploadsUrl } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { postGraphql } from '../support/example-server.js';
import { SYNC_PULL } from '../support/operations.js';
import { dropPostgresDatabase, freshPostgresDatabase, postgresAvailability } from '../support/postgres.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const key = new TextEncoder().encode(SECRET);
const pg = await postgresAvailability();
if (pg.url === null) console.warn(`[tokens e2e] PostgreSQL variant SKIPPED: ${pg.reason}`);

/** The verifier's clock (epoch ms): tests move it forward to expire tokens. */
const clock = { now: Date.now() };
const sign = (tenant: string, user: string, expiresInSec: number, signingKey: Uint8Array = key) =>
  new SignJWT({ tenantId: tenant })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuer('https://auth.test')
    .setAudience('trackhub')
    .setIssuedAt(Math.floor(clock.now / 1000))
    .setExpirationTime(Math.floor(clock.now / 1000) + expiresInSec)
    .sign(signingKey);

async function boot(
  prisma: unknown,
  verifyToken: TokenVerifier,
  extra: { allowDevTokens?: boolean; media?: { directory: string; tempDirectory: string } } = {},
): Promise<{ app: INestApplication; url: string }> {
  const app = await createTrackhubServer(
    TrackhubModule.forRoot({ prisma: prisma as never, verifyToken, logger: { error: () => undefined }, ...extra }),
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/graphql` };
}

const variants = [
  { name: 'SQLite', provider: 'sqlite' as const },
  ...(pg.url === null ? [] : [{ name: 'PostgreSQL', provider: 'postgresql' as const }]),
];

for (const variant of variants) {
  describe(`tokens on ${variant.name}`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-tokens-'));
    let handle: { prisma: any; disconnect(): Promise<void> };
    let server: { app: INestApplication; url: string };
    let pgUrl: string | null = null;
    const open: OfflineFirstClient[] = [];
    let n = 0;
    const tenant = () => `tok${process.pid}x${++n}`;

    beforeAll(async () => {
      if (variant.provider === 'postgresql') {
        pgUrl = await freshPostgresDatabase(`tokens_${process.pid}`);
        handle = await createExamplePrismaClient({ provider: 'postgresql', url: pgUrl, reset: true });
      } else {
        handle = await createExamplePrismaClient({ provider: 'sqlite', file: path.join(dir, 'server.db'), reset: true });
      }
      const verify = jwtVerifier({ secret: SECRET, issuer: 'https://auth.test', audience: 'trackhub', now: () => clock.now, clockToleranceSec: 0 });
      server = await boot(handle.prisma, verify, {
        allowDevTokens: false,
        media: { directory: path.join(dir, 'media'), tempDirectory: path.join(dir, 'uploads-in-flight') },
      });
    });
    afterEach(async () => {
      for (const client of open.splice(0)) {
        await client.close();
        closeNodeDatabase(client.database);
      }
    });
    afterAll(async () => {
      await server?.app.close();
      await handle?.disconnect();
      if (pgUrl) await dropPostgresDatabase(pgUrl);
      rmSync(dir, { recursive: true, force: true });
    });

    /** A device; `afterAnswer(n)` runs after its n-th request was answered (to expire a token mid-sync). */
    function device(t: string, options: Partial<Parameters<typeof createClient>[0]>, afterAnswer?: (n: number) => void) {
      const requests: string[] = [];
      const client = createClient({
        tenantId: t,
        url: server.url,
        dbDir: mkdtempSync(path.join(dir, 'device-')),
        pushBatchSize: 2,
        ...options,
        fetch: async (url, init) => {
          requests.push(init.headers.authorization ?? '');
          const response = await fetch(url, init);
          afterAnswer?.(requests.length);
          return response;
        },
      });
      open.push(client);
      return { client, requests };
    }

    it('accepts a valid JWT, takes the tenant from its claim, and refuses expired, forged, foreign-issuer and claim-less tokens', async () => {
      const t = tenant();
      const good = await sign(t, 'u1', 60);
      const ok = await postGraphql(server.url, SYNC_PULL, { entity: 'Space' }, good);
      expect(ok.errors).toBeUndefined();

      const expired = await sign(t, 'u1', 1);
      const forged = await sign(t, 'u1', 60, new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
      const foreignIssuer = await new SignJWT({ tenantId: t }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setIssuer('https://evil.test').setAudience('trackhub').setExpirationTime(Math.floor(clock.now / 1000) + 60).sign(key);
      const noTenant = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setIssuer('https://auth.test').setAudience('trackhub').setExpirationTime(Math.floor(clock.now / 1000) + 60).sign(key);
      const noExpiry = await new SignJWT({ tenantId: t }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setIssuer('https://auth.test').setAudience('trackhub').sign(key);
      clock.now += 2_000; // `expired` is now past its exp
      try {
        for (const [name, token] of Object.entries({ expired, forged, foreignIssuer, noTenant, noExpiry, dev: `dev:${t}:u1` })) {
          const res = await postGraphql(server.url, SYNC_PULL, { entity: 'Space' }, token);
          expect(res.errors?.[0]?.extensions?.code, name).toBe('UNAUTHENTICATED');
        }
      } finally {
        clock.now -= 2_000;
      }
    });

    it('a token that expires in the middle of a sync is refreshed once and the sync completes with every change', async () => {
      const t = tenant();
      let token = await sign(t, 'u1', 30);
      let refreshes = 0;
      const restore = clock.now;
      // The token expires once the first push batch (of 3) has been answered.
      const { client, requests } = device(
        t,
        {
          getToken: () => token,
          refreshToken: async () => {
            refreshes += 1;
            token = await sign(t, 'u1', 30);
            return token;
          },
        },
        (n) => {
          if (n === 1) clock.now += 60_000;
        },
      );
      for (let i = 0; i < 6; i++) await client.spaces.create({ name: `s${i}`, ownerId: 'o' });
      try {
        const report = await client.syncAll();
        expect(report.entities.find((e) => e.entity === 'Space')).toMatchObject({ pushed: 6, succeeded: 6, failed: 0 });
      } finally {
        clock.now = restore;
      }
      expect(refreshes).toBe(1);
      expect(new Set(requests).size).toBe(2); // the first token, then the refreshed one
      const rows = await handle.prisma.space.findMany({ where: { tenantId: t } });
      expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
      expect(await client.queueSize()).toBe(0);
      expect(client.authState).toBe('ok');
    });

    it('an upload whose token expired is refreshed once and goes through (one-shot and resumable)', async () => {
      const t = tenant();
      let token = await sign(t, 'u1', 30);
      let refreshes = 0;
      const authorizations: string[] = [];
      const refreshToken = async () => {
        refreshes += 1;
        token = await sign(t, 'u1', 30);
        return token;
      };
      const { client } = device(t, {
        getToken: () => token,
        refreshToken,
        uploader: httpUploader({
          url: uploadsUrl(server.url),
          getToken: () => token,
          refreshToken,
          resumableFromBytes: 64 * 1024,
          chunkSize: 32 * 1024,
          fetch: async (url, init) => {
            authorizations.push(init.headers.authorization ?? '');
            return fetch(url, init);
          },
        }),
      });
      const small = path.join(dir, `small-${t}.png`);
      const large = path.join(dir, `large-${t}.png`);
      writeFileSync(small, Buffer.alloc(1000, 7));
      writeFileSync(large, Buffer.alloc(200 * 1024, 9));
      const restore = clock.now;
      try {
        for (const [name, file] of [['small', small], ['large', large]] as const) {
          const space = await client.spaces.create({ name, ownerId: 'o' });
          await client.spaces.attachCoverUrl(space.id, file);
          clock.now += 60_000; // the token in hand has expired
          const before = refreshes;
          const stats = await client.uploads.process();
          expect(stats, name).toMatchObject({ uploaded: 1, failed: 0 });
          expect(refreshes - before, name).toBe(1);
          await client.syncAll();
          const row = await handle.prisma.space.findFirst({ where: { tenantId: t, clientId: space.id } });
          expect(row.coverUrl, name).toMatch(/\/uploads\/[0-9a-f]{64}$/);
        }
      } finally {
        clock.now = restore;
      }
      expect(new Set(authorizations).size).toBe(3); // the first token, then one refresh per expiry
    });

    it('a refresh that fails stops sync in authRequired (worker paused, metrics, events, changes kept) until a new token arrives', async () => {
      const t = tenant();
      const expired = await sign(t, 'u1', 1);
      clock.now += 5_000;
      try {
        const events: string[] = [];
        let refreshes = 0;
        const { client, requests } = device(t, {
          token: expired,
          refreshToken: async () => {
            refreshes += 1;
            throw new Error('refresh token revoked');
          },
          onAuthStateChange: (change) => events.push(change.state),
        });
        await client.spaces.create({ name: 'kept', ownerId: 'o' });
        await client.spaces.create({ name: 'kept too', ownerId: 'o' });

        const errors: unknown[] = [];
        const worker = new SyncWorker(client, { intervalMs: 20, debounceMs: 5, initialBackoffMs: 10, onError: (e) => errors.push(e) });
        worker.start();
        try {
          await until(() => worker.authRequired);
          expect(errors[0]).toBeInstanceOf(AuthRequiredError);
          expect(String((errors[0] as Error).message)).toMatch(/refresh token revoked/);
          expect(client.authState).toBe('authRequired');
          expect(events).toEqual(['authRequired']);
          expect(await client.metrics()).toMatchObject({ authRequired: true, queueSize: 2 });

          // Paused: no request loop, however short its interval and backoff.
          const before = requests.length;
          await client.spaces.create({ name: 'made while signed out', ownerId: 'o' });
          await sleep(300);
          expect(requests.length).toBe(before);
          expect(refreshes).toBe(1);
          const ops = await client.queue.open();
          expect(ops.every((op) => op.attempts === 0 && op.status === 'pending'), JSON.stringify(ops.map((o) => [o.status, o.attempts]))).toBe(true);
          expect(await client.givenUp()).toEqual([]);

          client.setToken(await sign(t, 'u1', 60));
          await until(async () => (await client.queueSize()) === 0);
          expect(client.authState).toBe('ok');
          expect(events).toEqual(['authRequired', 'ok']);
          expect(worker.authRequired).toBe(false);
          const rows = await handle.prisma.space.findMany({ where: { tenantId: t } });
          expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(['kept', 'kept too', 'made while signed out']);
        } finally {
          await worker.stop();
        }
      } finally {
        clock.now -= 5_000;
      }
    });
  });
}

describe('JWKS (an identity provider on loopback, RS256)', () => {
  let jwks: Server;
  let jwksUrl = '';
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-jwks-'));
  beforeAll(async () => {
    keys = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => jwks.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies tokens signed by the provider with a nested tenant claim, and refuses others', async () => {
    const handle = await createExamplePrismaClient({ provider: 'sqlite', file: path.join(dir, 'server.db'), reset: true });
    const server = await boot(handle.prisma, jwtVerifier({ jwksUrl, tenantClaim: 'org.id' }), { allowDevTokens: false });
    try {
      const exp = Math.floor(Date.now() / 1000) + 60;
      const good = await new SignJWT({ org: { id: 'jwks-tenant' } }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('u').setExpirationTime(exp).sign(keys.privateKey);
      const other = await generateKeyPair('RS256');
      const bad = await new SignJWT({ org: { id: 'jwks-tenant' } }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('u').setExpirationTime(exp).sign(other.privateKey);
      const hsWithPublicKey = await new SignJWT({ org: { id: 'jwks-tenant' } }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime(exp).sign(key);
      expect((await postGraphql(server.url, SYNC_PULL, { entity: 'Space' }, good)).errors).toBeUndefined();
      for (const token of [bad, hsWithPublicKey]) {
        expect((await postGraphql(server.url, SYNC_PULL, { entity: 'Space' }, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    } finally {
      await server.app.close();
      await handle.disconnect();
    }
  });
});

describe('the server refuses development tokens unless enabled', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-devtokens-'));
  let handle: { prisma: any; disconnect(): Promise<void> };
  beforeAll(async () => {
    handle = await createExamplePrismaClient({ provider: 'sqlite', file: path.join(dir, 'server.db'), reset: true });
  });
  afterAll(async () => {
    await handle?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const handWritten: TokenVerifier = (token) => {
    const m = /^dev:([^:]+):([^:]+)$/.exec(token);
    return m ? { tenantId: m[1]!, userId: m[2]! } : null;
  };

  it('a start with the dev verifier (or a hand-written copy of it) fails with a message that says how to fix it', async () => {
    for (const verify of [devTokenVerifier, handWritten]) {
      await expect(boot(handle.prisma, verify, { allowDevTokens: false })).rejects.toThrow(
        /Refusing to start: the token verifier accepts development tokens.*TRACKHUB_JWT_SECRET.*TRACKHUB_ALLOW_DEV_TOKENS=1/s,
      );
    }
  });

  it('starts with a real verifier, and with dev tokens enabled on purpose (option or TRACKHUB_ALLOW_DEV_TOKENS=1)', async () => {
    const saved = process.env.TRACKHUB_ALLOW_DEV_TOKENS;
    try {
      delete process.env.TRACKHUB_ALLOW_DEV_TOKENS;
      await expect(boot(handle.prisma, devTokenVerifier)).rejects.toThrow(/Refusing to start/);
      for (const [verify, extra] of [
        [jwtVerifier({ secret: SECRET }), {}],
        [devTokenVerifier, { allowDevTokens: true }],
      ] as const) {
        const server = await boot(handle.prisma, verify, extra);
        await server.app.close();
      }
      process.env.TRACKHUB_ALLOW_DEV_TOKENS = '1';
      const server = await boot(handle.prisma, devTokenVerifier);
      const res = await postGraphql(server.url, SYNC_PULL, { entity: 'Space' }, 'dev:t1:u1');
      expect(res.errors).toBeUndefined();
      await server.app.close();
    } finally {
      if (saved === undefined) delete process.env.TRACKHUB_ALLOW_DEV_TOKENS;
      else process.env.TRACKHUB_ALLOW_DEV_TOKENS = saved;
    }
  });

  it('a short HS256 secret or no key at all is a clear configuration error', () => {
    expect(() => jwtVerifier({ secret: 'short' })).toThrow(/at least 32/);
    expect(() => jwtVerifier({})).toThrow(/exactly one of `secret`/);
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting for the condition');
    await sleep(10);
  }
}
