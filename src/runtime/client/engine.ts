/**
 * The sync engine: the lock (one sync per database; concurrent calls join), the
 * order of the phases (push every entity, then pull every entity, parents first),
 * and the run metrics. The phases live in sync/, like WatermelonDB's sync/impl/:
 *
 *   sync/push.ts          fold, send, settle the operation queue
 *   sync/push-outcome.ts  the pure decision for one pushed item's answer
 *   sync/pull.ts          page through syncPull
 *   sync/apply-remote.ts  write server records locally; the pull position
 *   sync/conflicts.ts     conflict rows, their resolution, given-up operations
 *   sync/force.ts         forceSyncFromServer / forcePushLocal
 *   sync/ids.ts           local <-> server id translation
 */
import type { Collection, Database } from '@nozbe/watermelondb';

import type { WireItem } from './codec.js';
import type { EntityDescriptor } from './descriptors.js';
import { syncLockFor } from './lock.js';
import type { SyncLock } from './lock.js';
import { OperationQueue } from './queue.js';
import { applyServerItems, translateForServer } from './sync/apply-remote.js';
import { givenUp, listConflicts, resolveConflict, retryGivenUp } from './sync/conflicts.js';
import type { EngineContext } from './sync/context.js';
import { discardLocal, queueEverything, removeUnseen, resetCursor } from './sync/force.js';
import { findLocal } from './sync/ids.js';
import { pullStreams } from './sync/streams.js';
import { pushEntities, resetSending } from './sync/push.js';
import {
  emptyReport,
  type AnyModel,
  type ConflictInfo,
  type ConflictResolution,
  type EntitySyncReport,
  type SyncEngineOptions,
  type SyncMetrics,
  type SyncReport,
} from './sync/types.js';
import type { OperationRecord } from './tables.js';
import { NetworkError } from './transport.js';
import type { GraphQLTransport } from './transport.js';

export { GAVE_UP } from './sync/types.js';
export type {
  ConflictContext,
  ConflictDecision,
  ConflictInfo,
  ConflictPolicy,
  ConflictResolution,
  EntitySyncReport,
  SyncEngineOptions,
  SyncMetrics,
  SyncReport,
} from './sync/types.js';
export { NetworkError };

export class SyncEngine implements EngineContext {
  readonly queue: OperationQueue;
  readonly lock: SyncLock;
  readonly metrics: SyncMetrics = {
    syncs: 0,
    failedSyncs: 0,
    lastSuccessfulSyncAt: null,
    lastError: null,
    lastPushMs: null,
    lastPullMs: null,
    itemsPushed: 0,
    itemsSucceeded: 0,
    itemsFailed: 0,
    itemsPulled: 0,
    conflicts: 0,
    retries: 0,
    givenUp: 0,
  };
  readonly pushBatchSize: number;
  readonly pullLimit: number;
  private readonly byName = new Map<string, EntityDescriptor>();

  constructor(
    readonly database: Database,
    readonly transport: GraphQLTransport,
    readonly entities: EntityDescriptor[],
    readonly options: SyncEngineOptions = {},
  ) {
    this.queue = new OperationQueue(database);
    this.lock = syncLockFor(database);
    for (const entity of entities) this.byName.set(entity.name, entity);
    this.pushBatchSize = Math.max(1, options.pushBatchSize ?? 500);
    this.pullLimit = Math.max(1, options.pullLimit ?? 1000);
  }

  get isSyncing(): boolean {
    return this.lock.busy;
  }

  entity(name: string): EntityDescriptor {
    const entity = this.byName.get(name);
    if (!entity) throw new Error(`Unknown entity ${name}`);
    return entity;
  }

  hasEntity(name: string): boolean {
    return this.byName.has(name);
  }

  collection(entity: EntityDescriptor): Collection<AnyModel> {
    return this.database.get<AnyModel>(entity.table);
  }

  // ---------------------------------------------------------------- public runs

  /** Push every entity, then pull every entity, in dependency order. Concurrent calls join. */
  syncAll(): Promise<SyncReport> {
    return this.lock.run('syncAll', () => this.measured(() => this.run(this.entities, { push: true, pull: true })));
  }

  /** Push (only) the given entities. */
  syncPush(names: string[] = this.entities.map((e) => e.name)): Promise<SyncReport> {
    return this.lock.run(`push:${names.join(',')}`, () =>
      this.measured(() => this.run(this.pick(names), { push: true, pull: false })),
    );
  }

  /** Pull (only) the given entities. */
  syncPull(names: string[] = this.entities.map((e) => e.name)): Promise<SyncReport> {
    return this.lock.run(`pull:${names.join(',')}`, () =>
      this.measured(() => this.run(this.pick(names), { push: false, pull: true })),
    );
  }

  /**
   * Reload the given entities from the server: the cursor is reset, every
   * record is pulled again and replaces the local copy, and records the server
   * no longer has are removed. Records with a waiting local change (and the
   * operations themselves) are kept and pushed by the next sync, unless
   * `discardPending` is set: then waiting operations are dropped, records
   * never acknowledged by the server are removed, and every record is
   * replaced by the server's copy.
   */
  forceSyncFromServer(
    names: string[] = this.entities.map((e) => e.name),
    options: { discardPending?: boolean } = {},
  ): Promise<SyncReport> {
    return this.lock.run(`forceServer:${names.join(',')}`, () =>
      this.measured(async () => {
        const startedAt = new Date();
        const reports: EntitySyncReport[] = [];
        for (const entity of this.pick(names)) {
          const report = emptyReport(entity.name);
          if (options.discardPending) await discardLocal(this, entity);
          else await resetCursor(this, entity);
          const seen = new Set<string>();
          await pullStreams(this, [entity], new Map([[entity.name, report]]), new Map([[entity.name, seen]]));
          await removeUnseen(this, entity, seen, report);
          reports.push(report);
        }
        return { startedAt, finishedAt: new Date(), entities: reports };
      }),
    );
  }

  /**
   * Make the device's state win for the given entities: every local record is
   * queued (insert, update with all fields, or delete) and pushed; a conflict
   * is rebased onto the server's version and pushed again. Then pulls.
   */
  forcePushLocal(names: string[] = this.entities.map((e) => e.name)): Promise<SyncReport> {
    return this.lock.run(`forceLocal:${names.join(',')}`, () =>
      this.measured(async () => {
        const startedAt = new Date();
        const entities = this.pick(names);
        const reports = new Map(entities.map((e) => [e.name, emptyReport(e.name)]));
        for (const entity of entities) await queueEverything(this, entity);
        await resetSending(this);
        await pushEntities(this, entities, reports, 'local');
        // Rebased conflicts were re-queued: send them once more.
        await pushEntities(this, entities, reports, 'local');
        await pullStreams(this, entities, reports);
        return { startedAt, finishedAt: new Date(), entities: [...reports.values()] };
      }),
    );
  }

  private pick(names: string[]): EntityDescriptor[] {
    const wanted = new Set(names);
    for (const name of wanted) this.entity(name);
    return this.entities.filter((e) => wanted.has(e.name));
  }

  private async measured(job: () => Promise<SyncReport>): Promise<SyncReport> {
    this.metrics.syncs += 1;
    try {
      const report = await job();
      this.metrics.lastSuccessfulSyncAt = report.finishedAt;
      this.metrics.lastError = null;
      return report;
    } catch (error) {
      this.metrics.failedSyncs += 1;
      this.metrics.lastError = (error as Error)?.message ?? String(error);
      throw error;
    }
  }

  private async run(entities: EntityDescriptor[], phases: { push: boolean; pull: boolean }): Promise<SyncReport> {
    const startedAt = new Date();
    const reports = new Map(entities.map((e) => [e.name, emptyReport(e.name)]));
    if (phases.push) {
      const t0 = Date.now();
      await resetSending(this);
      await pushEntities(this, entities, reports);
      this.metrics.lastPushMs = Date.now() - t0;
    }
    if (phases.pull) {
      const t0 = Date.now();
      await pullStreams(this, entities, reports);
      this.metrics.lastPullMs = Date.now() - t0;
    }
    return { startedAt, finishedAt: new Date(), entities: [...reports.values()] };
  }

  // ---------------------------------------------------------------- outside a sync run

  /** Writes server-shaped items (e.g. an online create's answer) locally, as synced. Records with waiting local changes are kept. */
  applyServerItems(entity: EntityDescriptor, items: WireItem[]): Promise<void> {
    return applyServerItems(this, entity, items);
  }

  /** Translates the foreign keys of wire-shaped values from local ids to server ids (else client ids). */
  translateForServer(entity: EntityDescriptor, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    return translateForServer(this, entity, values);
  }

  /** Local records by local id. */
  findLocal(entity: EntityDescriptor, ids: string[]): Promise<Map<string, AnyModel>> {
    return findLocal(this, entity, ids);
  }

  /** Operations the engine stopped sending (see `maxItemAttempts`), oldest first. */
  givenUp(entity?: string): Promise<OperationRecord[]> {
    return givenUp(this, entity);
  }

  /** Makes given-up operations eligible again (attempts restart at 0); they go with the next sync. */
  retryGivenUp(entity?: string): Promise<number> {
    return retryGivenUp(this, entity);
  }

  listConflicts(filter: { entity?: string; resolved?: boolean } = {}): Promise<ConflictInfo[]> {
    return listConflicts(this, filter);
  }

  /**
   * Settles a conflict left for the user: `server` adopts the server's data,
   * `local` keeps the device's change and pushes it over the server version,
   * `{ data }` (wire-shaped fields) writes a merged result and pushes it.
   */
  resolveConflict(conflictId: string, resolution: ConflictResolution): Promise<void> {
    return resolveConflict(this, conflictId, resolution);
  }
}
