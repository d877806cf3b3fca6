/**
 * Creating the HTTP server: NestJS on Express with a JSON body limit that fits
 * the largest accepted syncPush batch (Express's default is 100 kB).
 */
import type { DynamicModule, LoggerService, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { TrackhubCore } from './core.js';

export interface TrackhubServerOptions {
  /** JSON body limit (bytes or e.g. '20mb'); default: 16 KiB per item of the max batch, at least 1 MB. */
  bodyLimit?: number | string;
  /** NestJS logger setting (default: errors and warnings only). */
  logger?: LoggerService | LogLevel[] | false;
  /** Enable CORS (default false). */
  cors?: boolean;
  /**
   * How long an idle keep-alive connection stays open (default 65 000 ms). It must
   * be longer than your load balancer's idle timeout (AWS ALB: 60 s; nginx
   * upstream keepalive_timeout): Node's own 5 s default lets the server close a
   * connection the balancer is about to reuse, and the balancer answers 502.
   */
  keepAliveTimeoutMs?: number;
}

/** Default idle keep-alive timeout: above the common 60 s load balancer idle timeout. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Bytes a batch of `maxBatchSize` items may take on the wire. */
export function bodyLimitFor(maxBatchSize: number): number {
  return Math.max(1024 * 1024, maxBatchSize * 16 * 1024);
}

/**
 * `NestFactory.create` + a raised JSON body limit. Returns the app unstarted:
 * call `app.listen(port)` (or `listen(0, '127.0.0.1')` in tests) and `app.close()`.
 */
export async function createTrackhubServer(
  rootModule: Type<unknown> | DynamicModule,
  options: TrackhubServerOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    logger: options.logger ?? ['error', 'warn'],
    cors: options.cors ?? false,
  });
  let limit = options.bodyLimit;
  if (limit === undefined) {
    const core = app.get(TrackhubCore, { strict: false });
    limit = bodyLimitFor(core.maxBatchSize);
  }
  app.useBodyParser('json', { limit });
  const http = app.getHttpServer() as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
  // Node requires the headers timeout to exceed the keep-alive timeout.
  http.headersTimeout = Math.max(http.headersTimeout, http.keepAliveTimeout + 1_000);
  return app;
}

/** Creates the server and listens on `port` (default: $PORT or 3000). */
export async function startTrackhubServer(
  rootModule: Type<unknown> | DynamicModule,
  options: TrackhubServerOptions & { port?: number; host?: string } = {},
): Promise<NestExpressApplication> {
  const app = await createTrackhubServer(rootModule, options);
  const port = options.port ?? Number(process.env.PORT ?? 3000);
  if (options.host) await app.listen(port, options.host);
  else await app.listen(port);
  return app;
}
