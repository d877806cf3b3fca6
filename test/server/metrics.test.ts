/**
 * TrackhubMetrics on its own registry: bounded labels, device report parsing.
 */
import { describe, expect, it } from 'vitest';

import { METRIC, TrackhubMetrics, parseClientReport } from '../../src/runtime/server/metrics.js';
import { parseExposition, sample } from '../support/prometheus.js';

describe('TrackhubMetrics', () => {
  it('owns its registry: two instances do not clash and neither touches the global default registry', async () => {
    const { register } = await import('prom-client');
    const a = new TrackhubMetrics(['Space']);
    const b = new TrackhubMetrics(['Space']);
    a.observePull('Space', 0.01, 3);
    expect(sample(parseExposition(await a.scrape()), METRIC.itemsPulled, { entity: 'Space' })).toBe(3);
    expect(sample(parseExposition(await b.scrape()), METRIC.itemsPulled, { entity: 'Space' })).toBe(0);
    expect(await register.metrics()).not.toContain('trackhub_');
  });

  it('never turns an unknown entity or error code into a label value', async () => {
    const m = new TrackhubMetrics(['Space']);
    m.observePush('Space', 0.01, [{}, {}], [
      { success: false, errorCode: 'MY_OWN_CODE', version: null },
      { success: false, errorCode: 'VALIDATION_FAILED', version: null },
    ]);
    m.observePull('tenant-42-secret', 0.01, 1);
    m.request('push', 'weird');
    const samples = parseExposition(await m.scrape());
    expect(sample(samples, METRIC.itemErrors, { entity: 'Space', code: 'OTHER' })).toBe(1);
    expect(sample(samples, METRIC.itemErrors, { entity: 'Space', code: 'VALIDATION_FAILED' })).toBe(1);
    expect(sample(samples, METRIC.requests, { op: 'push', outcome: 'OTHER' })).toBe(1);
    expect(samples.some((s) => Object.values(s.labels).includes('tenant-42-secret'))).toBe(false);
  });

  it('counts a stale base settled by the strategy as a resolved conflict', async () => {
    const m = new TrackhubMetrics(['Hero']);
    m.observePush('Hero', 0.01, [{ version: 1 }, { version: 3 }, {}], [
      { success: true, errorCode: null, version: 4 }, // base 1, now 4: someone else wrote in between
      { success: true, errorCode: null, version: 4 }, // base 3 -> 4: a plain update
      { success: true, errorCode: null, version: 1 }, // a create
    ]);
    const samples = parseExposition(await m.scrape());
    expect(sample(samples, METRIC.conflicts, { entity: 'Hero', outcome: 'resolved' })).toBe(1);
    expect(sample(samples, METRIC.conflicts, { entity: 'Hero', outcome: 'conflict' })).toBe(0);
  });

  it('accepts only small device reports of finite non-negative numbers, and counts the others as invalid', async () => {
    expect(parseClientReport('{"queueSize":3,"lastSyncAgeSeconds":null}')).toEqual({ queueSize: 3, lastSyncAgeSeconds: null });
    expect(parseClientReport('{"queueSize":3,"extra":"ignored"}')).toEqual({ queueSize: 3 });
    for (const bad of ['', 'nope', '[]', 'null', '{"queueSize":-1}', '{"queueSize":"3"}', '{"dbSizeBytes":1e999}', `{"queueSize":1,"x":"${'a'.repeat(2000)}"}`])
      expect(parseClientReport(bad), bad).toBeNull();
    const m = new TrackhubMetrics([]);
    expect(m.observeClientReport('{"queueSize":-5}')).toBe(false);
    expect(m.observeClientReport('{"queueSize":5,"lastSyncAgeSeconds":120}')).toBe(true);
    const samples = parseExposition(await m.scrape());
    expect(sample(samples, METRIC.clientReports, { result: 'invalid' })).toBe(1);
    expect(sample(samples, METRIC.clientReports, { result: 'accepted' })).toBe(1);
    expect(sample(samples, `${METRIC.clientLastSyncAge}_bucket`, { le: '300' })).toBe(1);
    expect(sample(samples, `${METRIC.clientLastSyncAge}_bucket`, { le: '60' })).toBe(0);
    const off = new TrackhubMetrics([], { clientMetrics: false });
    expect(off.observeClientReport('{"queueSize":5}')).toBe(false);
  });
});

describe('stdoutSyncLog', () => {
  it('writes one JSON line per entry with level, time and msg', async () => {
    const { stdoutSyncLog } = await import('../../src/runtime/server/observe.js');
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (lines.push(chunk), true)) as typeof process.stdout.write;
    try {
      stdoutSyncLog({ op: 'pull', tenant: 't1', entity: 'Space', outcome: 'ok', durationMs: 1.5, items: 2, hasMore: false, clientMetrics: false });
    } finally {
      process.stdout.write = write;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', msg: 'trackhub.sync', op: 'pull', tenant: 't1', entity: 'Space', items: 2, durationMs: 1.5 });
  });
});
