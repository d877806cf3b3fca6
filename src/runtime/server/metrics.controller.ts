/**
 * `GET /metrics` (path configurable) for Prometheus: a NestJS controller built
 * for one TrackhubMetrics, registered by the generated TrackhubModule. Without
 * a token the endpoint is open (the series carry no ids); with `metrics.token`
 * a scrape must send `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';

import { Controller, Get, Req, Res, type Type } from '@nestjs/common';

import { bearerToken, type RequestLike } from './auth.js';
import type { TrackhubCore } from './core.js';
import type { TrackhubMetrics } from './metrics.js';

interface ResponseLike {
  status(code: number): ResponseLike;
  setHeader(name: string, value: string): void;
  send(body: string): void;
}

function sameToken(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A controller class serving `metrics` on `metrics.path`. */
export function metricsController(metrics: TrackhubMetrics): Type<unknown> {
  class TrackhubMetricsController {
    async scrape(req: RequestLike, res: ResponseLike): Promise<void> {
      if (metrics.token !== null && !sameToken(bearerToken(req.headers?.authorization), metrics.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        res.status(401).send('metrics: Authorization: Bearer <token> required\n');
        return;
      }
      res.setHeader('content-type', metrics.contentType);
      res.status(200).send(await metrics.scrape());
    }
  }
  // Decorators applied by hand: the path is only known at runtime.
  const proto = TrackhubMetricsController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'scrape')!;
  Req()(proto, 'scrape', 0);
  Res()(proto, 'scrape', 1);
  Get(metrics.path)(proto, 'scrape', descriptor);
  Controller()(TrackhubMetricsController);
  return TrackhubMetricsController;
}

/** Controllers the generated TrackhubModule registers: the metrics endpoint unless `metrics: false`. */
export function trackhubControllers(core: TrackhubCore): Type<unknown>[] {
  return core.metrics ? [metricsController(core.metrics)] : [];
}
