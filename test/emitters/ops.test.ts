/**
 * The generated Grafana dashboard and Prometheus alert rules, checked
 * structurally: the YAML parses into rule groups of the right shape, every
 * PromQL expression parses (@prometheus-io/lezer-promql) and selects only
 * metrics and labels the server runtime registers, the dashboard has unique
 * panel ids, a Prometheus datasource and only such queries.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { ALERTS_PATH, DASHBOARD_PATH, emitOps } from '../../src/emitters/ops/index.js';
import { loadProject } from '../../src/model/build.js';
import { TrackhubMetrics } from '../../src/runtime/server/metrics.js';
import { familyOf, metricFamilies, promqlSelectors } from '../support/prometheus.js';

const root = path.resolve(import.meta.dirname, '../..');
const project = await loadProject(path.join(root, 'fixtures/trackhub/schema.prisma'));
const entityNames = project.entities.map((e) => e.name);
const committed = (file: string) => readFileSync(path.join(root, 'generated-example', file), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Every expression of the committed files: the ones `trackhub-gen check` keeps in step with the schema. */
function alertRules(): { groups: { name: string; rules: Rule[] }[] } {
  return parse(committed(ALERTS_PATH)) as { groups: { name: string; rules: Rule[] }[] };
}
function dashboard(): any {
  return JSON.parse(committed(DASHBOARD_PATH));
}

const metrics = new TrackhubMetrics(entityNames);
const families = metricFamilies(await metrics.scrape());

async function checkExpression(expr: string): Promise<string[]> {
  const selectors = await promqlSelectors(expr);
  expect(selectors.length, expr).toBeGreaterThan(0);
  for (const s of selectors) {
    const family = familyOf(s.metric, families);
    expect(family, `${s.metric} in ${expr} is not a runtime metric`).toBeDefined();
    const labelNames = [...((metrics.registry.getSingleMetric(family!) as unknown as { labelNames: string[] }).labelNames ?? [])];
    if (s.metric.endsWith('_bucket')) labelNames.push('le');
    for (const m of s.matchers) {
      expect(labelNames, `label ${m.label} of ${s.metric}`).toContain(m.label);
      if (m.label === 'entity' && m.op === '=') expect(entityNames).toContain(m.value);
      if (m.label === 'entity' && m.op === '=~') expect(m.value.split('|').sort()).toEqual([...entityNames].sort());
    }
  }
  return selectors.map((s) => familyOf(s.metric, families)!);
}

describe('ops emitter: Grafana dashboard and Prometheus alert rules', () => {
  it('is deterministic and the committed files are its output', () => {
    const first = emitOps(project, { runtimeServer: 'x', runtimeClient: 'y' });
    const second = emitOps(project, { runtimeServer: 'x', runtimeClient: 'y' });
    expect(first).toEqual(second);
    expect(first.map((f) => [f.path, f.owner])).toEqual([
      [DASHBOARD_PATH, 'generator'],
      [ALERTS_PATH, 'generator'],
    ]);
    expect(JSON.parse(first[0].content)).toEqual(dashboard());
    expect(parse(first[1].content)).toEqual(alertRules());
  });

  it('alert rules parse into groups of well-formed rules whose PromQL parses and selects runtime metrics and labels', async () => {
    const { groups } = alertRules();
    expect(groups.map((g) => g.name)).toEqual(['trackhub-sync-entities', 'trackhub-sync']);
    const names = new Set<string>();
    const used = new Set<string>();
    for (const group of groups) {
      expect(group.rules.length).toBeGreaterThan(0);
      for (const rule of group.rules) {
        expect(Object.keys(rule).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k)), rule.alert).toBe(true);
        expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
        expect(names.has(rule.alert), `duplicate ${rule.alert}`).toBe(false);
        names.add(rule.alert);
        if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
        expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
        expect(rule.annotations.summary).toBeTruthy();
        expect(rule.annotations.description).toBeTruthy();
        for (const family of await checkExpression(rule.expr)) used.add(family);
      }
    }
    // The alerts: conflict rate, error rate, p99 latency, devices with an old last successful sync.
    expect([...names]).toEqual(
      expect.arrayContaining(['TrackhubConflictRateHigh', 'TrackhubItemErrorRateHigh', 'TrackhubPushLatencyHigh', 'TrackhubPullLatencyHigh', 'TrackhubDevicesWithStaleSync']),
    );
    expect([...used]).toEqual(
      expect.arrayContaining(['trackhub_sync_conflicts_total', 'trackhub_sync_item_errors_total', 'trackhub_sync_push_duration_seconds', 'trackhub_client_last_sync_age_seconds']),
    );
  });

  it('the dashboard has unique panel ids, a Prometheus datasource, non-overlapping panels, and only parseable queries on runtime metrics', async () => {
    const d = dashboard();
    expect(d.uid).toBe('trackhub-sync');
    expect(d.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const ids = d.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Per entity: a row with latency, throughput, conflict rate and errors by code.
    for (const entity of entityNames) {
      const titles = d.panels.map((p: any) => p.title);
      expect(titles).toContain(entity);
      for (const what of ['push / pull latency', 'items pushed / pulled', 'conflict rate', 'errors by code']) expect(titles).toContain(`${entity}: ${what}`);
    }
    const cells = new Set<string>();
    for (const panel of d.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `panel ${panel.id} overlaps`).toBe(false);
          cells.add(`${i},${j}`);
        }
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets.length).toBeGreaterThan(0);
      const refIds = panel.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets) {
        expect(target.datasource).toEqual(panel.datasource);
        await checkExpression(target.expr);
      }
    }
  });

  it('the checks bite: an unknown metric, an unknown label and a syntax error are refused', async () => {
    await expect(checkExpression('sum(rate(trackhub_sync_nope_total[5m]))')).rejects.toThrow(/not a runtime metric/);
    await expect(checkExpression('sum(rate(trackhub_sync_items_pushed_total{tenant="t1"}[5m]))')).rejects.toThrow(/label tenant/);
    await expect(checkExpression('sum(rate(trackhub_sync_items_pushed_total{entity="Nope"}[5m]))')).rejects.toThrow();
    await expect(promqlSelectors('sum(rate(trackhub_sync_items_pushed_total[5m])')).rejects.toThrow(/syntax error/);
  });
});
