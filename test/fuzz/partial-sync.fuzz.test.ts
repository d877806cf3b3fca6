/**
 * Partial sync under faults (fast-check): random schedules on 2-4 devices of one tenant,
 * each its own user, against the REAL generated server (NestJS over HTTP, Prisma on
 * SQLite; PostgreSQL, and 2 replicas on one PostgreSQL database with every request
 * routed to a random replica, for fewer runs) and REAL WatermelonDB devices.
 *
 * Commands: create projects, tasks and notes; edit, move (to another project) and
 * delete tasks; subscribe to and unsubscribe from projects; grant and revoke project
 * memberships on the server (a project with members is private to them: the example
 * read rule); syncs with transport faults (request dropped, answer dropped after the
 * server committed, connection reset, duplicate delivery).
 *
 * After healing (faults off; every device syncs until a round changes nothing):
 *   - each device holds exactly the projects its user may read, and exactly the tasks
 *     and notes under its active subscriptions that the user may read: no more, no less
 *     (records still carrying an operation the server refused are the one exception,
 *     and each of them must be unreadable to that user on the server);
 *   - every active subscription is to a live project the user may read; a subscription
 *     the schedule made and did not remove is still listed (active or revoked);
 *   - the device's copy of every row equals the server's (title, project, body);
 *   - every task and note a device created and nobody deleted exists on the server.
 *
 * Runs: TRACKHUB_FUZZ_PARTIAL_RUNS (default 60 on SQLite, a sixth of it on PostgreSQL
 * and in replica mode); TRACKHUB_FUZZ_SEED / TRACKHUB_FUZZ_PATH replay a counterexample
 * (test/support/fuzz.ts).
 */
// Over 300 lines on purpose: the schedule, its executor and the checks share one state.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import type { FetchLike } from '../../src/runtime/client/node.js';
import { closeNodeDatabase } from '../client/support/helpers.js';
import { FUZZ_PATH, fuzzParameters } from '../support/fuzz.js';
import { postgresAvailability } from '../support/postgres.js';
import { startReplicas, type ReplicaSet } from '../support/replicas.js';
import { startRestartableServer, type RestartableServer } from '../support/restartable-server.js';

const RUNS = Number(process.env.TRACKHUB_FUZZ_PARTIAL_RUNS ?? 60);

const FAULTS = ['dropRequest', 'dropResponse', 'reset', 'duplicate'] as const;
type Fault = (typeof FAULTS)[number];

type Cmd =
  | { k: 'project'; d: number; v: number }
  | { k: 'task'; d: number; pick: number; v: number }
  | { k: 'note'; d: number; pick: number; v: number }
  | { k: 'edit'; d: number; pick: number; v: number }
  | { k: 'move'; d: number; pick: number; to: number }
  | { k: 'deleteTask'; d: number; pick: number }
  | { k: 'subscribe'; d: number; pick: number }
  | { k: 'unsubscribe'; d: number; pick: number }
  | { k: 'grant'; user: number; pick: number }
  | { k: 'revoke'; pick: number; n: number }
  | { k: 'sync'; d: number; faults: { at: number; f: Fault }[] };

interface Schedule {
  devices: number;
  cmds: Cmd[];
}

function scheduleArb(): fc.Arbitrary<Schedule> {
  return fc.integer({ min: 2, max: 4 }).chain((devices) => {
    const d = fc.integer({ min: 0, max: devices - 1 });
    const pick = fc.nat(5);
    const fault = fc.record({ at: fc.integer({ min: 0, max: 8 }), f: fc.constantFrom<Fault>(...FAULTS) });
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 2, arbitrary: fc.record({ k: fc.constant('project' as const), d, v: fc.nat(99) }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('task' as const), d, pick, v: fc.nat(99) }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('note' as const), d, pick, v: fc.nat(99) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('edit' as const), d, pick, v: fc.nat(99) }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('move' as const), d, pick, to: pick }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('deleteTask' as const), d, pick }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('subscribe' as const), d, pick }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('unsubscribe' as const), d, pick }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('grant' as const), user: d, pick }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('revoke' as const), pick, n: fc.nat(3) }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('sync' as const), d, faults: fc.array(fault, { maxLength: 2 }) }) },
    );
    return fc.record({ devices: fc.constant(devices), cmds: fc.array(cmd, { minLength: 8, maxLength: 40 }) });
  });
}

interface Stats {
  schedules: number;
  commands: number;
  moves: number;
  subscribes: number;
  unsubscribes: number;
  grants: number;
  revokes: number;
  revokedScopes: number;
  refusedKept: number;
  faults: Record<string, number>;
  devicesChecked: number;
  rowsChecked: number;
}

interface Device {
  index: number;
  user: string;
  client: OfflineFirstClient;
  faults: Map<number, Fault>;
  requestNo: number;
  /** Server ids of projects the schedule subscribed to and did not unsubscribe from. */
  subscribed: Set<string>;
}

/** Where requests go: one server, or a random replica of a set. */
interface Target {
  url(): string;
  prisma: any;
}

let tenantCounter = 0;

class Run {
  readonly tenant = `pf${process.pid}x${++tenantCounter}`;
  readonly devices: Device[] = [];
  private readonly dirs: string[] = [];
  /** clientIds of tasks and notes devices created, and whether a device deleted them. */
  private readonly created = new Map<string, { entity: 'Task' | 'TaskNote'; deleted: boolean }>();

  constructor(
    private readonly target: Target,
    private readonly schedule: Schedule,
    private readonly stats: Stats,
  ) {}

  private fetchFor(device: Device): FetchLike {
    const forward = (init: { method: string; headers: Record<string, string>; body: string }) =>
      fetch(this.target.url(), { method: init.method, headers: init.headers, body: init.body });
    return async (_url, init) => {
      const n = device.requestNo++;
      const fault = device.faults.get(n);
      if (fault) this.stats.faults[fault] = (this.stats.faults[fault] ?? 0) + 1;
      switch (fault) {
        case undefined:
          return forward(init);
        case 'dropRequest':
          throw new TypeError('fetch failed (fuzz: request dropped)');
        case 'dropResponse':
          await (await forward(init)).text();
          throw new TypeError('fetch failed (fuzz: response dropped after the server answered)');
        case 'reset':
          await (await forward(init)).text();
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        case 'duplicate': {
          const [a, b] = await Promise.all([forward(init), forward(init)]);
          const text = await a.text();
          await b.text();
          return { ok: a.ok, status: a.status, text: async () => text };
        }
      }
    };
  }

  /** Two projects everyone knows, so that schedules start with something to subscribe to. */
  async seed(): Promise<void> {
    const first = this.devices[0]!.client;
    await first.projects.create({ name: 'seed-a' });
    await first.projects.create({ name: 'seed-b' });
    for (const device of this.devices) await device.client.syncAll();
  }

  setup(): void {
    for (let index = 0; index < this.schedule.devices; index++) {
      const dbDir = mkdtempSync(path.join(tmpdir(), 'trackhub-pfuzz-'));
      this.dirs.push(dbDir);
      const user = `user${index}`;
      const device = { index, user, faults: new Map(), requestNo: 0, subscribed: new Set<string>() } as unknown as Device;
      device.client = createClient({
        tenantId: this.tenant,
        url: 'http://fuzz.invalid/graphql',
        token: `dev:${this.tenant}:${user}`,
        dbDir,
        fetch: this.fetchFor(device),
        timeoutMs: 0,
        pushBatchSize: 3,
        pullLimit: 3,
      });
      this.devices.push(device);
    }
  }

  teardown(): void {
    for (const device of this.devices) {
      try {
        closeNodeDatabase(device.client.database);
      } catch {
        // already closed
      }
    }
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  private async sync(device: Device, faults: { at: number; f: Fault }[] = []): Promise<void> {
    device.faults = new Map(faults.map((x) => [x.at, x.f]));
    device.requestNo = 0;
    try {
      await device.client.syncAll().catch(() => undefined);
    } finally {
      device.faults = new Map();
    }
  }

  private pickOf<T>(list: T[], n: number): T | undefined {
    return list.length ? list[n % list.length] : undefined;
  }

  async exec(cmd: Cmd): Promise<void> {
    this.stats.commands += 1;
    const device = 'd' in cmd ? this.devices[cmd.d]! : undefined;
    const c = device?.client;
    switch (cmd.k) {
      case 'project':
        await c!.projects.create({ name: `p${cmd.v}` });
        return;
      case 'task': {
        const project = this.pickOf(await c!.projects.list(), cmd.pick);
        if (!project) return;
        const task = await c!.tasks.create({ title: `t${cmd.v}`, projectId: project.id });
        this.created.set(task.clientId ?? task.id, { entity: 'Task', deleted: false });
        return;
      }
      case 'note': {
        const task = this.pickOf(await c!.tasks.list(), cmd.pick);
        if (!task) return;
        const note = await c!.taskNotes.create({ body: `n${cmd.pick}`, taskId: task.id });
        this.created.set(note.clientId ?? note.id, { entity: 'TaskNote', deleted: false });
        return;
      }
      case 'edit': {
        const task = this.pickOf(await c!.tasks.list(), cmd.pick);
        if (task) await c!.tasks.update(task.id, { title: `e${cmd.v}` });
        return;
      }
      case 'move': {
        const task = this.pickOf(await c!.tasks.list(), cmd.pick);
        const to = this.pickOf(await c!.projects.list(), cmd.to);
        if (!task || !to || to.id === task.projectId) return;
        this.stats.moves += 1;
        await c!.tasks.update(task.id, { projectId: to.id });
        return;
      }
      case 'deleteTask': {
        const task = this.pickOf(await c!.tasks.list(), cmd.pick);
        if (!task) return;
        // Its notes go with it (Cascade), on the device and on the server.
        for (const note of await c!.taskNotes.list()) if (note.taskId === task.id) this.markDeleted(note.clientId ?? note.id);
        this.markDeleted(task.clientId ?? task.id);
        await c!.tasks.delete(task.id);
        return;
      }
      case 'subscribe': {
        const project = this.pickOf(await c!.projects.list(), cmd.pick);
        if (!project?.serverId) return;
        this.stats.subscribes += 1;
        await c!.scopes.add('Project', project.id);
        device!.subscribed.add(project.serverId);
        return;
      }
      case 'unsubscribe': {
        const active = (await c!.scopes.list()).filter((s) => s.status !== 'removing');
        const scope = this.pickOf(active, cmd.pick);
        if (!scope) return;
        this.stats.unsubscribes += 1;
        await c!.scopes.remove('Project', scope.id);
        if (scope.serverId) device!.subscribed.delete(scope.serverId);
        return;
      }
      case 'grant': {
        const projects = await this.target.prisma.project.findMany({ where: { tenantId: this.tenant, deletedAt: null }, orderBy: { id: 'asc' } });
        const project = this.pickOf(projects as { id: string }[], cmd.pick);
        if (!project) return;
        this.stats.grants += 1;
        const user = `user${cmd.user}`;
        const exists = await this.target.prisma.projectMember.findFirst({ where: { projectId: project.id, userId: user } });
        if (!exists) await this.target.prisma.projectMember.create({ data: { id: randomUUID(), tenantId: this.tenant, projectId: project.id, userId: user } });
        return;
      }
      case 'revoke': {
        const members = await this.target.prisma.projectMember.findMany({ where: { tenantId: this.tenant }, orderBy: { id: 'asc' } });
        const member = this.pickOf(members as { id: string }[], cmd.pick + cmd.n);
        if (!member) return;
        this.stats.revokes += 1;
        await this.target.prisma.projectMember.delete({ where: { id: member.id } });
        return;
      }
      case 'sync':
        await this.sync(device!, cmd.faults);
        return;
    }
  }

  private markDeleted(clientId: string): void {
    const entry = this.created.get(clientId);
    if (entry) entry.deleted = true;
  }

  async heal(): Promise<void> {
    for (let round = 0; round < 8; round++) {
      let changed = false;
      for (const device of this.devices) {
        const report = await device.client.syncAll();
        const moved = report.entities.reduce((a, e) => a + e.pushed + e.pulled, 0);
        if (moved > 0) changed = true;
      }
      if (!changed && round > 0) return;
    }
  }

  async check(): Promise<void> {
    const prisma = this.target.prisma;
    const members = (await prisma.projectMember.findMany({ where: { tenantId: this.tenant } })) as { projectId: string; userId: string }[];
    const projects = (await prisma.project.findMany({ where: { tenantId: this.tenant, deletedAt: null } })) as { id: string; name: string }[];
    const tasks = (await prisma.task.findMany({ where: { tenantId: this.tenant, deletedAt: null } })) as { id: string; clientId: string | null; title: string; projectId: string }[];
    const notes = (await prisma.taskNote.findMany({ where: { tenantId: this.tenant, deletedAt: null } })) as { id: string; clientId: string | null; body: string; taskId: string }[];
    const readable = (user: string, projectId: string) => {
      const of = members.filter((m) => m.projectId === projectId);
      return of.length === 0 || of.some((m) => m.userId === user);
    };
    const taskProject = new Map(tasks.map((t) => [t.id, t.projectId]));

    // Nothing a device created is lost unless a device deleted it.
    const serverClientIds = new Set([...tasks, ...notes].map((r) => r.clientId));
    const everServer = new Set(
      [
        ...((await prisma.task.findMany({ where: { tenantId: this.tenant } })) as { clientId: string | null }[]),
        ...((await prisma.taskNote.findMany({ where: { tenantId: this.tenant } })) as { clientId: string | null }[]),
      ].map((r) => r.clientId),
    );

    for (const device of this.devices) {
      const c = device.client;
      this.stats.devicesChecked += 1;
      const scopes = await c.scopes.list();
      const active = new Set(scopes.filter((s) => s.status === 'active').map((s) => s.serverId!));
      this.stats.revokedScopes += scopes.filter((s) => s.status === 'revoked').length;
      for (const id of active) {
        expect(projects.some((p) => p.id === id), `device ${device.index}: active scope ${id} is a live project`).toBe(true);
        expect(readable(device.user, id), `device ${device.index}: active scope ${id} is readable by ${device.user}`).toBe(true);
      }
      for (const id of device.subscribed) {
        const listed = scopes.some((s) => s.serverId === id);
        const gone = !projects.some((p) => p.id === id);
        expect(listed || gone, `device ${device.index}: subscription ${id} still listed`).toBe(true);
      }
      // Records still carrying an operation the server refused: kept, and explained.
      const refused = new Set<string>();
      for (const op of await c.givenUp()) refused.add(op.entityId);
      for (const entity of ['Task', 'TaskNote', 'Project'] as const) for (const id of await c.engine.queue.recordsWithOpenOps(entity)) refused.add(id);
      // ...and the records above them on the scope path (their foreign keys must still resolve).
      for (const n of await c.taskNotes.list()) if (refused.has(n.id)) refused.add(n.taskId);
      for (const t of await c.tasks.list()) if (refused.has(t.id)) refused.add(t.projectId);
      this.stats.refusedKept += refused.size;

      // The server's copies of those records are left out of the expectation too.
      const refusedServer = new Set<string>();
      for (const r of [...(await c.projects.list()), ...(await c.tasks.list()), ...(await c.taskNotes.list())])
        if (refused.has(r.id) && r.serverId) refusedServer.add(r.serverId);
      const localProjects = (await c.projects.list()).filter((p) => !refused.has(p.id));
      if (process.env.TRACKHUB_FUZZ_DEBUG) console.log('DEBUG', device.index, JSON.stringify({ local: await c.projects.list(), projects, members, refused: [...refused], given: (await c.givenUp()).map((o) => [o.entity, o.operation, o.lastError]), ops: (await c.engine.queue.all()).map((o: any) => o._raw), scopes, tasks: await c.tasks.list(), serverTasks: tasks }));
      expect(localProjects.map((p) => p.serverId).sort(), `device ${device.index} projects`).toEqual(
        projects.filter((p) => readable(device.user, p.id) && !refusedServer.has(p.id)).map((p) => p.id).sort(),
      );
      const localTasks = (await c.tasks.list()).filter((t) => !refused.has(t.id));
      const wantTasks = tasks.filter((t) => active.has(t.projectId) && readable(device.user, t.projectId) && !refusedServer.has(t.id));
      expect(localTasks.map((t) => t.serverId).sort(), `device ${device.index} tasks`).toEqual(wantTasks.map((t) => t.id).sort());
      const localNotes = (await c.taskNotes.list()).filter((n) => !refused.has(n.id));
      const wantNotes = notes.filter((n) => {
        const p = taskProject.get(n.taskId);
        return p !== undefined && active.has(p) && readable(device.user, p) && !refusedServer.has(n.id);
      });
      expect(localNotes.map((n) => n.serverId).sort(), `device ${device.index} notes`).toEqual(wantNotes.map((n) => n.id).sort());
      // Same values as the server, relations included (local ids mapped through the local projects).
      const projectByLocal = new Map((await c.projects.list()).map((p) => [p.id, p.serverId]));
      const taskByLocal = new Map((await c.tasks.list()).map((t) => [t.id, t.serverId]));
      for (const t of localTasks) {
        const s = tasks.find((x) => x.id === t.serverId)!;
        expect({ title: t.title, project: projectByLocal.get(t.projectId) }).toEqual({ title: s.title, project: s.projectId });
      }
      for (const n of localNotes) {
        const s = notes.find((x) => x.id === n.serverId)!;
        expect({ body: n.body, task: taskByLocal.get(n.taskId) }).toEqual({ body: s.body, task: s.taskId });
      }
      this.stats.rowsChecked += localProjects.length + localTasks.length + localNotes.length;
    }
    for (const [clientId, entry] of this.created) {
      if (entry.deleted) continue;
      // A record refused by the read rules never reached the server; any other one did.
      if (!everServer.has(clientId)) {
        const keptSomewhere = await Promise.all(this.devices.map(async (d) => (await d.client.givenUp()).length + (await d.client.queueSize()) > 0));
        expect(keptSomewhere.some(Boolean), `${entry.entity} ${clientId} was created offline and is neither on the server nor waiting on its device`).toBe(true);
      } else if (!serverClientIds.has(clientId)) {
        // Deleted on the server without a device deleting it: only a cascade from a deleted task explains it.
        expect(entry.entity, `${clientId} deleted on the server though no device deleted it`).toBe('TaskNote');
      }
    }
  }
}

const newStats = (): Stats => ({
  schedules: 0,
  commands: 0,
  moves: 0,
  subscribes: 0,
  unsubscribes: 0,
  grants: 0,
  revokes: 0,
  revokedScopes: 0,
  refusedKept: 0,
  faults: {},
  devicesChecked: 0,
  rowsChecked: 0,
});

const pg = await postgresAvailability();
if (pg.url === null) console.warn(`[partial-sync fuzz] PostgreSQL variants SKIPPED: ${pg.reason}`);
const variants: Array<{ name: string; runs: number; start(): Promise<{ target: Target; stop(): Promise<void> }> }> = [
  {
    name: 'SQLite',
    runs: RUNS,
    async start() {
      const server: RestartableServer = await startRestartableServer('sqlite', 'pfuzz');
      return { target: { url: () => server.url, get prisma() { return server.prisma; } }, stop: () => server.stop() };
    },
  },
  ...(pg.url === null
    ? []
    : [
        {
          name: 'PostgreSQL, 2 replicas',
          runs: Math.max(2, Math.round(RUNS / 6)),
          async start() {
            const set: ReplicaSet = await startReplicas('pfuzz_replicas', 2);
            let k = 0;
            return { target: { url: () => set.replicas[k++ % 2]!.url, prisma: set.replicas[0]!.prisma }, stop: () => set.stop() };
          },
        },
      ]),
];

for (const variant of variants) {
  describe(`partial sync under faults on ${variant.name}`, () => {
    let server: { target: Target; stop(): Promise<void> };
    beforeAll(async () => {
      server = await variant.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it(`${variant.runs} random schedules: each device holds exactly its subscriptions' readable rows`, async () => {
      const stats = newStats();
      await fc.assert(
        fc.asyncProperty(scheduleArb(), async (schedule) => {
          const run = new Run(server.target, schedule, stats);
          stats.schedules += 1;
          run.setup();
          try {
            await run.seed();
            for (const cmd of schedule.cmds) await run.exec(cmd);
            await run.heal();
            await run.check();
          } finally {
            run.teardown();
          }
        }),
        fuzzParameters(variant.runs),
      );
      console.log(`[partial-sync fuzz ${variant.name}] ${JSON.stringify(stats)}`);
      if (FUZZ_PATH !== undefined) return;
      expect(stats.schedules).toBeGreaterThanOrEqual(variant.runs);
      // The schedules did exercise what they are about.
      expect(stats.moves + stats.revokes + stats.unsubscribes).toBeGreaterThan(0);
    }, 1_800_000);
  });
}
