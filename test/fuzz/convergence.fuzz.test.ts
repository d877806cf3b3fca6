/**
 * Convergence under faults (fast-check): random schedules of local writes and
 * syncs on 2-5 devices across two tenants (Space -> Checklist -> ChecklistItem with
 * timestamp and merge conflicts; Company with serverWins and the tenant column
 * workspaceId), with faults injected at the transport, against the REAL generated server (NestJS over HTTP, Prisma on
 * SQLite, and PostgreSQL for a smaller number of runs) and the REAL generated
 * client (WatermelonDB SQLite files in a temp dir).
 *
 * Faults (an injected fetch wrapper per device, per request of a sync):
 *   dropRequest    the request never reaches the server
 *   dropResponse   the server commits, the answer is lost
 *   reset          the server commits, the connection resets (the transport resends: a duplicate)
 *   duplicate      the request is delivered twice at once
 *   replayLater    delivered, and a stale copy is delivered again later (out of order)
 *   delay / delayResponse   latency before / after the server, reordering concurrent devices
 * plus commands: `crash` (the app dies mid-request, before or after the server
 * committed; a new client is opened on the same database file) and `restart`
 * (the Nest app and its Prisma client are closed and booted again on the same
 * database).
 *
 * After healing (faults off, every device syncs until a whole round sends
 * nothing; conflicts left for the user are resolved as "server"):
 *   - every device equals the server for its tenant (same ids, same values, empty queue)
 *   - no saved write is lost: a record no one deleted is live on the server; a record
 *     only one device ever wrote holds exactly that device's last values; values of
 *     records written on several devices are values some device wrote
 *   - no duplicate: one server row per (tenant, clientId), and no row no device created
 *   - no cross-tenant row, on the server or on a device
 *
 * Replica mode (PostgreSQL): the same schedules against 3 server replicas on one
 * database (TRACKHUB_FUZZ_REPLICAS); every request goes to a random replica, each
 * replica's clock is skewed by up to ±2 s and writes are held open 1-40 ms before
 * their commit at random (seeded per schedule); no restarts. Same checks.
 *
 * Runs: TRACKHUB_FUZZ_RUNS (default 500 on SQLite, a tenth of it on PostgreSQL),
 * TRACKHUB_FUZZ_REPLICA_RUNS (default 200; 2000 in long mode; 0 = off),
 * TRACKHUB_FUZZ_LONG=1 (5000 / 500), TRACKHUB_FUZZ_SEED to replay a seed
 * (fast-check prints the seed, the path and the shrunk schedule on failure;
 * TRACKHUB_FUZZ_PATH replays exactly that counterexample; under CI=true the first
 * counterexample is reported unshrunk: test/support/fuzz.ts).
 * A seed fixes the schedule and the faults; thread timing may still differ.
 */
// Over 500 lines on purpose: the schedule model, its executor and the checks share one
// state (devices, writes, the server) and read best together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import type { FetchLike } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { postgresAvailability } from '../support/postgres.js';
import { startReplicas } from '../support/replicas.js';
import { startRestartableServer, type RestartableServer } from '../support/restartable-server.js';
import { FUZZ_PATH, fuzzParameters } from '../support/fuzz.js';

// ------------------------------------------------------------------ configuration

const LONG = process.env.TRACKHUB_FUZZ_LONG === '1';
const RUNS = Number(process.env.TRACKHUB_FUZZ_RUNS ?? (LONG ? 5000 : 500));
const PG_RUNS = Math.max(1, Math.round(RUNS / 10));
/** Replica mode: schedules on REPLICAS server replicas sharing one PostgreSQL database (0 turns it off). */
const REPLICA_RUNS = Number(process.env.TRACKHUB_FUZZ_REPLICA_RUNS ?? (LONG ? 2000 : 200));
if (REPLICA_RUNS === 0) console.warn('[fuzz] replica mode SKIPPED: TRACKHUB_FUZZ_REPLICA_RUNS=0');
const REPLICAS = Number(process.env.TRACKHUB_FUZZ_REPLICAS ?? 3);

const ENTITIES = ['Space', 'Checklist', 'ChecklistItem', 'Company'] as const;
type EntityName = (typeof ENTITIES)[number];

const FAULTS = ['dropRequest', 'dropResponse', 'reset', 'duplicate', 'replayLater', 'delay', 'delayResponse'] as const;
type Fault = (typeof FAULTS)[number];

type Cmd =
  | { k: 'create'; d: number; e: EntityName; parent: number; v: number }
  | { k: 'update'; d: number; e: EntityName; pick: number; field: 'text' | 'num' | 'parent'; v: number }
  | { k: 'delete'; d: number; e: EntityName; pick: number }
  /** A checklist with `items` items (under an existing space, or none), so deletes have children to follow. */
  | { k: 'tree'; d: number; parent: number; items: number; v: number }
  /** Deletes a record that has children on this device (Checklist: Cascade; Space: SetNull). */
  | { k: 'deleteParent'; d: number; pick: number }
  /**
   * Device `a` makes a parent (Space or Checklist) and syncs; device `b` pulls it, adds a
   * child and syncs; `a`, which never saw that child, deletes the parent: the server's part
   * of onDelete (SetNull for a Checklist under a Space, Cascade for an item under a Checklist).
   */
  | { k: 'race'; a: number; b: number; cascade: boolean; v: number }
  | { k: 'sync'; d: number; faults: { at: number; f: Fault }[] }
  | { k: 'syncAll'; faults: { d: number; at: number; f: Fault }[] }
  | { k: 'crash'; d: number; at: number; afterCommit: boolean }
  | { k: 'restart' };

interface Schedule {
  /** Tenant (0 or 1) of each device: 2 to 5 devices; device 0 is in tenant 0, the last one in tenant 1. */
  devices: number[];
  cmds: Cmd[];
  /** Replica mode: each replica's clock skew (ms), and the seed routing requests and holding writes. */
  cluster?: { skewsMs: number[]; seed: number; holdPercent: number };
}

// ------------------------------------------------------------------ arbitraries

function scheduleArb(withRestart: boolean, replicas = 0): fc.Arbitrary<Schedule> {
  if (replicas > 0) {
    const cluster = fc.record({
      skewsMs: fc.array(fc.integer({ min: -2000, max: 2000 }), { minLength: replicas, maxLength: replicas }),
      seed: fc.integer(),
      holdPercent: fc.constantFrom(10, 30, 60),
    });
    return fc.tuple(scheduleArb(withRestart), cluster).map(([schedule, c]) => ({ ...schedule, cluster: c }));
  }
  // Mostly several devices of tenant 0 (so they edit the same records and conflict), sometimes one per tenant.
  const layout = fc.oneof(
    { weight: 1, arbitrary: fc.constant<number[]>([0, 1]) },
    { weight: 5, arbitrary: fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 2 }).map((middle) => [0, 0, ...middle, 1]) },
  );
  return layout.chain((devices) => {
    const d = fc.integer({ min: 0, max: devices.length - 1 });
    const e = fc.constantFrom<EntityName>(...ENTITIES);
    // Mostly the oldest record of the entity (the one other devices most likely hold too: edits then clash).
    const pick = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(7) });
    const fault = fc.record({ at: fc.integer({ min: 0, max: 6 }), f: fc.constantFrom<Fault>(...FAULTS) });
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ k: fc.constant('create' as const), d, e, parent: fc.nat(7), v: fc.nat(99) }) },
      {
        weight: 5,
        arbitrary: fc.record({
          k: fc.constant('update' as const),
          d,
          e,
          pick,
          field: fc.constantFrom('text' as const, 'num' as const, 'parent' as const),
          v: fc.nat(99),
        }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), d, e, pick }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('tree' as const), d, parent: fc.nat(7), items: fc.integer({ min: 1, max: 3 }), v: fc.nat(99) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('deleteParent' as const), d, pick }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('race' as const), a: d, b: d, cascade: fc.boolean(), v: fc.nat(99) }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('sync' as const), d, faults: fc.array(fault, { maxLength: 2 }) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('syncAll' as const),
          faults: fc.array(fc.record({ d, at: fault.map((x) => x.at), f: fault.map((x) => x.f) }), { maxLength: 3 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('crash' as const), d, at: fc.nat(5), afterCommit: fc.boolean() }) },
      ...(withRestart ? [{ weight: 1, arbitrary: fc.constant({ k: 'restart' as const }) }] : []),
    );
    // Mostly short schedules (fast), a third longer ones (where bugs of several steps hide); longer still in long mode.
    const cmds = fc.oneof(
      { weight: 2, arbitrary: fc.array(cmd, { minLength: 2, maxLength: 30, size: LONG ? 'medium' : 'small' }) },
      { weight: 1, arbitrary: fc.array(cmd, { minLength: 2, maxLength: 30, size: LONG ? 'large' : 'medium' }) },
    );
    return fc.record({ devices: fc.constant(devices), cmds });
  });
}

// ------------------------------------------------------------------ execution

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const OWNER = 'fuzz-owner';

interface Device {
  index: number;
  tenant: string;
  dbDir: string;
  client: OfflineFirstClient;
  /** Faults for the requests of the current sync, by request number. */
  faults: Map<number, Fault>;
  requestNo: number;
  crash: { at: number; afterCommit: boolean; hung: () => void } | null;
}

interface Write {
  tenant: string;
  device: number;
  entity: EntityName;
  id: string;
  kind: 'create' | 'update' | 'delete';
  values: Record<string, unknown>;
}

export interface FuzzStats {
  schedules: number;
  commands: number;
  faults: Record<string, number>;
  crashes: number;
  restarts: number;
  conflictsResolvedByUser: number;
  /** Conflicts the devices' sync engines met (and settled by the entity's rule). */
  conflicts: number;
  healingRounds: number;
  /** Records the server deleted with their parent (onDelete: Cascade) / whose reference it cleared (SetNull). */
  cascaded: number;
  setNull: number;
  ms: number;
}

const newStats = (): FuzzStats => ({
  schedules: 0,
  commands: 0,
  faults: {},
  crashes: 0,
  restarts: 0,
  conflictsResolvedByUser: 0,
  conflicts: 0,
  healingRounds: 0,
  cascaded: 0,
  setNull: 0,
  ms: 0,
});

/** Fields the fuzzer writes, per entity. */
const FIELDS: Record<
  EntityName,
  { text: string; num: string | null; parent: { field: string; entity: EntityName; optional: boolean; onDelete: 'SetNull' | 'Cascade' } | null }
> = {
  Space: { text: 'name', num: 'position', parent: null },
  // The schema's onDelete, carried out by the server: Checklist.space is optional (Prisma's default SetNull),
  // ChecklistItem.checklist says Cascade.
  Checklist: { text: 'title', num: null, parent: { field: 'spaceId', entity: 'Space', optional: true, onDelete: 'SetNull' } },
  ChecklistItem: { text: 'label', num: 'position', parent: { field: 'checklistId', entity: 'Checklist', optional: false, onDelete: 'Cascade' } },
  Company: { text: 'name', num: 'employees', parent: null },
};

const parentFieldOf = (entity: EntityName): string | undefined => FIELDS[entity].parent?.field;

/** Entities whose conflict strategy is the field-level `merge`. */
const MERGE = new Set<EntityName>(['ChecklistItem']);

const DELEGATE: Record<EntityName, string> = { Space: 'space', Checklist: 'checklist', ChecklistItem: 'checklistItem', Company: 'company' };
/** The tenant column (Company is tenant-scoped by `workspaceId`, with serverWins conflicts, in a mapped table). */
const TENANT: Record<EntityName, string> = { Space: 'tenantId', Checklist: 'tenantId', ChecklistItem: 'tenantId', Company: 'workspaceId' };

function service(client: OfflineFirstClient, entity: EntityName) {
  return entity === 'Space'
    ? client.spaces
    : entity === 'Checklist'
      ? client.checklists
      : entity === 'ChecklistItem'
        ? client.checklistItems
        : client.companies;
}

let tenantCounter = 0;

class Run {
  readonly devices: Device[] = [];
  readonly writes: Write[] = [];
  readonly tenants: [string, string];
  private readonly background = new Set<Promise<unknown>>();
  private readonly dirs: string[] = [];

  constructor(
    private readonly server: RestartableServer,
    private readonly schedule: Schedule,
    private readonly stats: FuzzStats,
  ) {
    const n = ++tenantCounter;
    this.tenants = [`fz${process.pid}x${n}a`, `fz${process.pid}x${n}b`];
  }

  private forward(init: { method: string; headers: Record<string, string>; body: string }): Promise<Response> {
    return fetch(this.server.url, { method: init.method, headers: init.headers, body: init.body });
  }

  private countFault(name: string): void {
    this.stats.faults[name] = (this.stats.faults[name] ?? 0) + 1;
  }

  private fetchFor(device: Device): FetchLike {
    return async (_url, init) => {
      const n = device.requestNo++;
      const crash = device.crash;
      if (crash && n === crash.at) {
        if (crash.afterCommit) await (await this.forward(init)).text();
        crash.hung();
        return new Promise<never>(() => undefined); // the app is gone: this request never returns
      }
      const fault = device.faults.get(n);
      if (fault) this.countFault(fault);
      switch (fault) {
        case undefined:
          return this.forward(init);
        case 'dropRequest':
          throw new TypeError('fetch failed (fuzz: request dropped)');
        case 'dropResponse':
          await (await this.forward(init)).text();
          throw new TypeError('fetch failed (fuzz: response dropped after the server answered)');
        case 'reset': {
          await (await this.forward(init)).text();
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        }
        case 'duplicate': {
          const [a, b] = await Promise.all([this.forward(init), this.forward(init)]);
          const text = await a.text();
          await b.text();
          return { ok: a.ok, status: a.status, text: async () => text };
        }
        case 'replayLater': {
          const response = await this.forward(init);
          const late = sleep(5 + (n % 4) * 7)
            .then(() => this.forward(init))
            .then((r) => r.text())
            .catch(() => undefined);
          this.background.add(late);
          void late.finally(() => this.background.delete(late));
          return response;
        }
        case 'delay':
          await sleep(1 + ((n * 7) % 15));
          return this.forward(init);
        case 'delayResponse': {
          const response = await this.forward(init);
          const text = await response.text();
          await sleep(1 + ((n * 5) % 15));
          return { ok: response.ok, status: response.status, text: async () => text };
        }
      }
    };
  }

  private open(device: Omit<Device, 'client'> & { client?: OfflineFirstClient }): OfflineFirstClient {
    return createClient({
      tenantId: device.tenant,
      url: 'http://fuzz.invalid/graphql', // the fault wrapper sends to the running server
      token: `dev:${device.tenant}:user${device.index}`,
      dbDir: device.dbDir,
      fetch: this.fetchFor(device as Device),
      timeoutMs: 0,
      pushBatchSize: 3,
      pullLimit: 4,
    });
  }

  async setup(): Promise<void> {
    for (const [index, t] of this.schedule.devices.entries()) {
      const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-fuzz-'));
      this.dirs.push(dbDir);
      const device = { index, tenant: this.tenants[t]!, dbDir, faults: new Map(), requestNo: 0, crash: null } as unknown as Device;
      device.client = this.open(device);
      this.devices.push(device);
    }
  }

  async teardown(): Promise<void> {
    await Promise.allSettled([...this.background]);
    for (const device of this.devices) {
      this.stats.conflicts += device.client.engine.metrics.conflicts;
      try {
        closeNodeDatabase(device.client.database);
      } catch {
        // already closed by a crash
      }
    }
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  /** Live local records of an entity on a device, in a stable order. */
  private async live(device: Device, entity: EntityName): Promise<Record<string, any>[]> {
    const rows = (await service(device.client, entity).list()) as unknown as Record<string, any>[];
    return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private async pickParent(device: Device, entity: EntityName, n: number): Promise<string | null | undefined> {
    const parent = FIELDS[entity].parent;
    if (!parent) return undefined;
    const candidates = await this.live(device, parent.entity);
    const options: (string | null)[] = [...candidates.map((c) => c.id as string), ...(parent.optional ? [null] : [])];
    if (options.length === 0) return undefined;
    return options[n % options.length]!;
  }

  /** One sync as an app runs it: push, then pull (each may fail under a fault; the next sync retries). */
  private async sync(device: Device, faults: { at: number; f: Fault }[] = []): Promise<void> {
    device.faults = new Map(faults.map((x) => [x.at, x.f]));
    device.requestNo = 0;
    const client = device.client;
    try {
      await client.syncPush([...ENTITIES]).catch(() => undefined);
      await client.syncPull([...ENTITIES]).catch(() => undefined);
    } finally {
      device.faults = new Map();
    }
  }

  private async crash(device: Device, at: number, afterCommit: boolean): Promise<void> {
    this.stats.crashes += 1;
    let hung!: () => void;
    const hungPromise = new Promise<void>((resolve) => (hung = resolve));
    device.crash = { at, afterCommit, hung };
    device.requestNo = 0;
    const running = this.sync(device).catch(() => undefined);
    await Promise.race([running, hungPromise]);
    device.crash = null;
    // The process dies: the database connection goes away with it; a new app opens the same file.
    this.stats.conflicts += device.client.engine.metrics.conflicts;
    closeNodeDatabase(device.client.database);
    device.client = this.open(device);
  }

  /**
   * The app deletes one record; its children follow the schema's onDelete at once on the
   * device (Cascade: deleted, SetNull: reference cleared) and on the server (which also
   * reaches children this device never saw). What the device did is logged as its writes.
   */
  private async deleteWithChildren(
    device: Device,
    entity: EntityName,
    id: string,
    log: (device: Device, entity: EntityName, id: string, kind: Write['kind'], values: Record<string, unknown>) => void,
  ): Promise<void> {
    const children = ENTITIES.filter((e) => FIELDS[e].parent !== null);
    const before = new Map<EntityName, Record<string, any>[]>();
    for (const e of children) before.set(e, await this.live(device, e));
    await service(device.client, entity).delete(id);
    log(device, entity, id, 'delete', {});
    for (const e of children) {
      const field = FIELDS[e].parent!.field;
      const after = new Map((await this.live(device, e)).map((r) => [r.id as string, r]));
      for (const row of before.get(e)!) {
        const now = after.get(row.id);
        if (!now) log(device, e, row.id, 'delete', {});
        else if (row[field] !== null && now[field] === null) log(device, e, row.id, 'update', { [field]: null });
      }
    }
  }

  async exec(cmd: Cmd, step: number): Promise<void> {
    this.stats.commands += 1;
    const log = (device: Device, entity: EntityName, id: string, kind: Write['kind'], values: Record<string, unknown>) =>
      this.writes.push({ tenant: device.tenant, device: device.index, entity, id, kind, values });
    switch (cmd.k) {
      case 'create': {
        const device = this.devices[cmd.d]!;
        const f = FIELDS[cmd.e];
        const values: Record<string, unknown> = { [f.text]: `s${step}v${cmd.v}` };
        if (f.num) values[f.num] = cmd.v;
        if (f.parent) {
          const parent = await this.pickParent(device, cmd.e, cmd.parent);
          if (parent === undefined && !f.parent.optional) return; // nothing to attach it to
          values[f.parent.field] = parent ?? null;
        }
        const input = cmd.e === 'Space' ? { ...values, ownerId: OWNER } : values;
        const created = await (service(device.client, cmd.e) as any).create(input);
        log(device, cmd.e, created.id, 'create', values);
        return;
      }
      case 'update': {
        const device = this.devices[cmd.d]!;
        const rows = await this.live(device, cmd.e);
        if (rows.length === 0) return;
        const target = rows[cmd.pick % rows.length]!;
        const f = FIELDS[cmd.e];
        const patch: Record<string, unknown> = {};
        if (cmd.field === 'num' && f.num) patch[f.num] = cmd.v;
        else if (cmd.field === 'parent' && f.parent) {
          const parent = await this.pickParent(device, cmd.e, cmd.v);
          if (parent === undefined) return;
          patch[f.parent.field] = parent;
        } else patch[f.text] = `s${step}v${cmd.v}`;
        await (service(device.client, cmd.e) as any).update(target.id, patch);
        log(device, cmd.e, target.id, 'update', patch);
        return;
      }
      case 'delete': {
        const device = this.devices[cmd.d]!;
        const rows = await this.live(device, cmd.e);
        if (rows.length === 0) return;
        const target = rows[cmd.pick % rows.length]!;
        await this.deleteWithChildren(device, cmd.e, target.id, log);
        return;
      }
      case 'tree': {
        const device = this.devices[cmd.d]!;
        const spaceId = (await this.pickParent(device, 'Checklist', cmd.parent)) ?? null;
        const list = await device.client.checklists.create({ title: `s${step}v${cmd.v}`, spaceId });
        log(device, 'Checklist', list.id, 'create', { title: `s${step}v${cmd.v}`, spaceId });
        for (let i = 0; i < cmd.items; i++) {
          const values = { label: `s${step}i${i}`, position: i, checklistId: list.id };
          const item = await device.client.checklistItems.create(values);
          log(device, 'ChecklistItem', item.id, 'create', values);
        }
        return;
      }
      case 'deleteParent': {
        const device = this.devices[cmd.d]!;
        const parents: { entity: EntityName; id: string }[] = [];
        for (const entity of ['Space', 'Checklist'] as const) {
          const childEntity = entity === 'Space' ? 'Checklist' : 'ChecklistItem';
          const field = FIELDS[childEntity].parent!.field;
          const withChildren = new Set((await this.live(device, childEntity)).map((c) => c[field] as string | null));
          for (const row of await this.live(device, entity)) if (withChildren.has(row.id)) parents.push({ entity, id: row.id });
        }
        if (parents.length === 0) return;
        const target = parents[cmd.pick % parents.length]!;
        await this.deleteWithChildren(device, target.entity, target.id, log);
        return;
      }
      case 'race': {
        const a = this.devices[cmd.a]!;
        const b = this.devices[cmd.b]!;
        if (a === b || a.tenant !== b.tenant) return;
        const parentEntity: EntityName = cmd.cascade ? 'Checklist' : 'Space';
        const childEntity: EntityName = cmd.cascade ? 'ChecklistItem' : 'Checklist';
        const parentValues: Record<string, unknown> = cmd.cascade ? { title: `s${step}p${cmd.v}`, spaceId: null } : { name: `s${step}p${cmd.v}`, position: cmd.v };
        const parent = await (service(a.client, parentEntity) as any).create(cmd.cascade ? parentValues : { ...parentValues, ownerId: OWNER });
        log(a, parentEntity, parent.id, 'create', parentValues);
        await this.sync(a);
        await this.sync(b);
        if (!(await service(b.client, parentEntity).get(parent.id))) return; // a fault of an earlier step held it back
        const field = FIELDS[childEntity].parent!.field;
        const childValues: Record<string, unknown> = cmd.cascade
          ? { label: `s${step}c${cmd.v}`, position: cmd.v, [field]: parent.id }
          : { title: `s${step}c${cmd.v}`, [field]: parent.id };
        const child = await (service(b.client, childEntity) as any).create(childValues);
        log(b, childEntity, child.id, 'create', childValues);
        await this.sync(b);
        await this.deleteWithChildren(a, parentEntity, parent.id, log);
        await this.sync(a);
        return;
      }
      case 'sync':
        await this.sync(this.devices[cmd.d]!, cmd.faults);
        return;
      case 'syncAll':
        await Promise.all(
          this.devices.map((device) =>
            this.sync(
              device,
              cmd.faults.filter((x) => x.d === device.index),
            ),
          ),
        );
        return;
      case 'crash':
        await this.crash(this.devices[cmd.d]!, cmd.at, cmd.afterCommit);
        return;
      case 'restart':
        await Promise.allSettled([...this.background]);
        this.stats.restarts += 1;
        await this.server.restart();
        return;
    }
  }

  /** Faults off; every device syncs until a whole round finds every queue empty. */
  async heal(): Promise<void> {
    await Promise.allSettled([...this.background]);
    for (let round = 0; round < 10; round++) {
      this.stats.healingRounds += 1;
      let quiet = true;
      for (const device of this.devices) {
        for (const conflict of await device.client.listConflicts({ resolved: false })) {
          this.stats.conflictsResolvedByUser += 1;
          await device.client.resolveConflict(conflict.id, 'server');
        }
        if ((await device.client.queueSize()) > 0) quiet = false;
        await device.client.syncPush([...ENTITIES]);
        await device.client.syncPull([...ENTITIES]);
      }
      if (quiet) return;
    }
    const queues = await Promise.all(
      this.devices.map(async (d) => ({
        device: d.index,
        ops: (await d.client.queue.all()).map((op) => ({
          entity: op.entity,
          entityId: op.entityId,
          operation: op.operation,
          status: op.status,
          attempts: op.attempts,
          lastError: op.lastError,
          conflictId: op.conflictId,
        })),
      })),
    );
    throw new Error(`not quiescent after 10 healing rounds: ${JSON.stringify(queues)}`);
  }

  async check(): Promise<void> {
    const prisma = this.server.prisma;
    for (const [t, tenant] of this.tenants.entries()) {
      const other = this.tenants[1 - t]!;
      const writes = this.writes.filter((w) => w.tenant === tenant);
      const created = new Set(writes.filter((w) => w.kind === 'create').map((w) => w.id));
      const otherCreated = new Set(this.writes.filter((w) => w.tenant === other && w.kind === 'create').map((w) => w.id));
      // Server rows of this tenant, by clientId; parents resolved to their clientId.
      const server = new Map<EntityName, Map<string, any>>();
      const idToClientId = new Map<string, string>();
      const rowById = new Map<string, any>();
      for (const entity of ENTITIES) {
        const rows: any[] = await prisma[DELEGATE[entity]].findMany({ where: { [TENANT[entity]]: tenant } });
        const byClientId = new Map<string, any>();
        for (const row of rows) {
          expect(row[TENANT[entity]]).toBe(tenant);
          // no row no device of this tenant created (duplicates, other tenant's records)
          expect(created.has(row.clientId), `${entity} row ${row.id} with clientId ${row.clientId} was created by no device of ${tenant}`).toBe(true);
          expect(byClientId.has(row.clientId), `duplicate ${entity} clientId ${row.clientId}`).toBe(false);
          byClientId.set(row.clientId, row);
          idToClientId.set(row.id, row.clientId);
          rowById.set(row.id, row);
        }
        server.set(entity, byClientId);
        // no record created in this tenant ended up in another tenant
        const leaked = await prisma[DELEGATE[entity]].count({ where: { clientId: { in: [...created] }, NOT: { [TENANT[entity]]: tenant } } });
        expect(leaked, `${entity} rows of ${tenant} stored under another tenant`).toBe(0);
      }
      // onDelete, carried out by the server: no live record references a deleted parent
      // (Cascade tombstoned it with its parent, SetNull cleared the reference).
      for (const entity of ENTITIES) {
        const rel = FIELDS[entity].parent;
        if (!rel) continue;
        for (const row of server.get(entity)!.values()) {
          const fk = row[rel.field] as string | null;
          if (row.deletedAt !== null || fk === null) continue;
          const parent = rowById.get(fk);
          expect(parent, `${entity} ${row.clientId} references ${fk}, no ${rel.entity} of ${tenant}`).toBeDefined();
          expect(parent.deletedAt, `live ${entity} ${row.clientId} references the deleted ${rel.entity} ${parent.clientId} (onDelete: ${rel.onDelete})`).toBeNull();
        }
      }
      /** The server deleted it with its parent (onDelete: Cascade). */
      const cascaded = (entity: EntityName, row: any): boolean => {
        const rel = FIELDS[entity].parent;
        return rel?.onDelete === 'Cascade' && row.deletedAt !== null && rowById.get(row[rel.field])?.deletedAt != null;
      };
      /** A parent this record was given is deleted: the server may have cleared the reference (SetNull), a write of its own. */
      const touchedBySetNull = (entity: EntityName, history: Write[]): boolean => {
        const rel = FIELDS[entity].parent;
        if (rel?.onDelete !== 'SetNull') return false;
        return history.some((w) => {
          const parent = w.values[rel.field];
          return typeof parent === 'string' && server.get(rel.entity)!.get(parent)?.deletedAt != null;
        });
      };
      const serverValues = (entity: EntityName, row: any): Record<string, unknown> => {
        const f = FIELDS[entity];
        const out: Record<string, unknown> = { [f.text]: row[f.text] };
        if (f.num) out[f.num] = row[f.num];
        if (f.parent) {
          const fk = row[f.parent.field] as string | null;
          out[f.parent.field] = fk === null ? null : (idToClientId.get(fk) ?? `<foreign:${fk}>`);
        }
        return out;
      };

      // every device of the tenant equals the server
      for (const device of this.devices.filter((d) => d.tenant === tenant)) {
        expect(await device.client.queueSize(), `device ${device.index} queue not empty`).toBe(0);
        expect(await device.client.givenUp(), `device ${device.index} gave up operations`).toEqual([]);
        for (const entity of ENTITIES) {
          const local = await this.live(device, entity);
          const f = FIELDS[entity];
          const mine = local
            .map((r) => {
              expect(otherCreated.has(r.id), `device ${device.index} holds ${entity} ${r.id} of the other tenant`).toBe(false);
              const values: Record<string, unknown> = { id: r.id, serverId: r.serverId, [f.text]: r[f.text] };
              if (f.num) values[f.num] = r[f.num];
              if (f.parent) {
                // A reference to a parent the device no longer has (deleted) stays in the server's form:
                // either form names the same server row.
                const fk = (r[f.parent.field] ?? null) as string | null;
                values[f.parent.field] = fk !== null && idToClientId.has(fk) ? idToClientId.get(fk)! : fk;
              }
              return values;
            })
            .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
          const theirs = [...server.get(entity)!.values()]
            .filter((row) => row.deletedAt === null)
            .map((row) => ({ id: row.clientId, serverId: row.id, ...serverValues(entity, row) }))
            .sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
          expect(mine, `device ${device.index} (${tenant}) ${entity} differs from the server`).toEqual(theirs);
        }
      }

      // no saved write lost
      for (const id of created) {
        const history = writes.filter((w) => w.id === id);
        const entity = history[0]!.entity;
        const row = server.get(entity)!.get(id);
        const deletedByDevice = history.some((w) => w.kind === 'delete');
        const writers = new Set(history.map((w) => w.device));
        if (!deletedByDevice) expect(row, `${entity} ${id} saved on device ${history[0]!.device} is missing on the server`).toBeDefined();
        if (!row) continue;
        const deleted = deletedByDevice || cascaded(entity, row);
        if (!deletedByDevice && cascaded(entity, row)) this.stats.cascaded += 1;
        if (!deleted) expect(row.deletedAt, `${entity} ${id} was deleted on the server though no device deleted it or its parent`).toBeNull();
        const serverWrote = touchedBySetNull(entity, history);
        if (serverWrote && parentFieldOf(entity) && row[parentFieldOf(entity)!] === null) this.stats.setNull += 1;
        const parentField = FIELDS[entity].parent?.field;
        const values = serverValues(entity, row);
        for (const [field, value] of Object.entries(values)) {
          const written = history.filter((w) => field in w.values).map((w) => w.values[field]);
          const fieldWriters = new Set(history.filter((w) => field in w.values).map((w) => w.device));
          if (serverWrote && field === parentField && value === null) continue; // cleared by SetNull
          if (writers.size === 1 && !deleted && !serverWrote) {
            expect(value, `${entity} ${id}.${field}: the only writer's last value`).toEqual(written[written.length - 1]);
          } else if (MERGE.has(entity) && fieldWriters.size === 1 && !deleted) {
            // field-level merge: a field only one device ever wrote cannot clash, whoever else edits the record
            expect(value, `${entity} ${id}.${field}: the only writer of this field (merge) has the last value`).toEqual(written[written.length - 1]);
          } else {
            expect(written, `${entity} ${id}.${field} = ${JSON.stringify(value)} was written by no device`).toContainEqual(value);
          }
        }
        // Unless the server wrote the record too (SetNull when its parent went): the delete then met a
        // newer version, a conflict by the entity's strategy, which healing resolves for the server's copy.
        if (writers.size === 1 && deletedByDevice && !serverWrote) expect(row.deletedAt, `${entity} ${id} deleted by its only writer`).not.toBeNull();
      }
    }
  }
}

async function runSchedule(server: RestartableServer, schedule: Schedule, stats: FuzzStats): Promise<void> {
  const run = new Run(server, schedule, stats);
  stats.schedules += 1;
  if (schedule.cluster) (server as ClusterServer).configure(schedule.cluster, stats);
  try {
    await run.setup();
    for (const [step, cmd] of schedule.cmds.entries()) await run.exec(cmd, step);
    await run.heal();
    await run.check();
  } finally {
    await run.teardown();
  }
}

// ------------------------------------------------------------------ replica mode

/**
 * Several replicas on one PostgreSQL database behind a "load balancer": each request
 * (every `url` read by the fault wrapper) goes to a random replica; each replica's
 * clock is skewed; a write is held open before its commit at random (1-40 ms).
 */
interface ClusterServer extends RestartableServer {
  configure(cluster: NonNullable<Schedule['cluster']>, stats: FuzzStats): void;
}

/** mulberry32: a small seeded PRNG (the schedule's seed fixes routes and holds). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function startCluster(count: number): Promise<ClusterServer> {
  let random = Math.random;
  let holdPercent = 0;
  let stats: FuzzStats | null = null;
  const set = await startReplicas('fuzz_replicas', count, {
    extra: () => ({
      async beforeCommit() {
        if (random() * 100 >= holdPercent) return;
        if (stats) stats.faults.heldWrite = (stats.faults.heldWrite ?? 0) + 1;
        await sleep(1 + Math.floor(random() * 40));
      },
    }),
  });
  return {
    get url() {
      const replica = set.any(random);
      if (stats) stats.faults[`replica${replica.index}`] = (stats.faults[`replica${replica.index}`] ?? 0) + 1;
      return replica.url;
    },
    get prisma() {
      return set.replicas[0]!.prisma;
    },
    restarts: 0,
    async restart() {
      throw new Error('replica mode does not restart');
    },
    configure(cluster, s) {
      random = prng(cluster.seed);
      holdPercent = cluster.holdPercent;
      stats = s;
      for (const [i, replica] of set.replicas.entries()) replica.skewMs = cluster.skewsMs[i] ?? 0;
    },
    stop: () => set.stop(),
  };
}

// ------------------------------------------------------------------ suites

const pg = await postgresAvailability();
if (pg.url === null) console.warn(`[convergence fuzz] PostgreSQL variant SKIPPED: ${pg.reason}`);

const variants = [
  { name: 'SQLite', provider: 'sqlite' as const, runs: RUNS, restart: true, replicas: 0 },
  ...(pg.url === null ? [] : [{ name: 'PostgreSQL', provider: 'postgresql' as const, runs: PG_RUNS, restart: true, replicas: 0 }]),
  ...(pg.url === null || REPLICA_RUNS === 0
    ? []
    : [{ name: `PostgreSQL with ${REPLICAS} replicas`, provider: 'postgresql' as const, runs: REPLICA_RUNS, restart: false, replicas: REPLICAS }]),
];

for (const variant of variants) {
  describe(`convergence under faults on ${variant.name}`, () => {
    let server: RestartableServer;
    beforeAll(async () => {
      server = variant.replicas > 0 ? await startCluster(variant.replicas) : await startRestartableServer(variant.provider, 'fuzz');
    });
    afterAll(async () => {
      await server?.stop();
    });

    // Bugs the fuzzer found, as plain regression tests (shrunk schedules, replayed by hand).
    describe('regressions', () => {
      const dirs: string[] = [];
      afterAll(() => {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      });
      /** A device whose next answer can be dropped after the server committed. */
      function device(tenant: string) {
        const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-fuzz-reg-'));
        dirs.push(dbDir);
        const net = { dropNextResponse: false };
        const client = createClient({
          tenantId: tenant,
          url: 'http://fuzz.invalid/graphql',
          token: `dev:${tenant}:u`,
          dbDir,
          fetch: async (_url, init) => {
            const response = await fetch(server.url, { method: init.method, headers: init.headers, body: init.body });
            if (!net.dropNextResponse) return response;
            net.dropNextResponse = false;
            await response.text();
            throw new TypeError('fetch failed (response dropped)');
          },
        });
        return { client, net };
      }
      let n = 0;
      const tenant = () => `reg${process.pid}x${++n}`;

      it('a create whose answer was lost, replayed after another device deleted the record, ends deleted on the device', async () => {
        const t = tenant();
        const a = device(t);
        const b = device(t);
        const list = await a.client.checklists.create({ title: 'doomed' });
        a.net.dropNextResponse = true;
        await expect(a.client.syncPush(['Checklist'])).rejects.toThrow(/response dropped/); // committed, answer lost
        await b.client.syncAll();
        await b.client.checklists.delete(list.id);
        await b.client.syncAll();
        await a.client.syncPull(['Checklist']); // the tombstone is skipped: A still waits to push its create
        await a.client.syncAll(); // the replayed create answers with the existing (deleted) record
        await a.client.syncAll();
        expect(await a.client.checklists.list()).toEqual([]);
        expect(await a.client.queueSize()).toBe(0);
      });

      it('an update the server already holds, pushed after a pull passed another device\'s write, ends with that write', async () => {
        const t = tenant();
        const a = device(t);
        const b = device(t);
        const list = await a.client.checklists.create({ title: 'base' });
        await a.client.syncAll();
        await b.client.syncAll();
        await a.client.checklists.update(list.id, { spaceId: null }); // the value the server holds
        await b.client.checklists.update(list.id, { title: 'from B' });
        await b.client.syncAll(); // v2: title from B
        await a.client.syncPull(['Checklist']); // v2 is kept out: A still waits to push its update
        await a.client.syncAll(); // nothing to write: success at v2, which is B's write, not A's
        await a.client.syncAll();
        expect(await a.client.checklists.get(list.id)).toMatchObject({ title: 'from B', version: 2 });
        expect(await a.client.queueSize()).toBe(0);
      });

      it('an update whose answer was lost, replayed after another device changed another field, ends with both changes', async () => {
        const t = tenant();
        const a = device(t);
        const b = device(t);
        const space = await a.client.spaces.create({ name: 'base', ownerId: 'o' });
        await a.client.syncAll();
        await b.client.syncAll();
        await a.client.spaces.update(space.id, { name: 'from A' });
        a.net.dropNextResponse = true;
        await expect(a.client.syncPush(['Space'])).rejects.toThrow(/response dropped/); // v2 committed, answer lost
        await b.client.syncAll();
        await b.client.spaces.update(space.id, { position: 5 });
        await b.client.syncAll(); // v3: name from A, position 5
        await a.client.syncPull(['Space']); // v3 is skipped: A still waits to push its update
        await a.client.syncAll(); // the replay equals the server's name: success without a write
        await a.client.syncAll();
        expect(await a.client.spaces.get(space.id)).toMatchObject({ name: 'from A', position: 5, version: 3 });
      });
    });

    it(`${variant.runs} random schedules converge with no lost, duplicated or leaked write`, async () => {
      const stats = newStats();
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(scheduleArb(variant.restart, variant.replicas), (schedule) => runSchedule(server, schedule, stats)),
        fuzzParameters(variant.runs),
      );
      stats.ms = Date.now() - started;
      console.log(`[convergence fuzz ${variant.name}] ${JSON.stringify(stats)}`);
      if (FUZZ_PATH === undefined) expect(stats.schedules).toBeGreaterThanOrEqual(variant.runs);
    }, 3_600_000);
  });
}
