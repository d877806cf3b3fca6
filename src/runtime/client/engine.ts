/**
 * The sync engine: pushes the operation queue, pulls server changes, merges.
 *
 * Push (per entity, parents first): waiting operations are folded to one per
 * record, sent in batches (`pending` -> `sending`), and settled from the
 * per-item results: success stores the server id / version / updatedAt on the
 * record and removes the operation; a conflict is written to `conflicts` and
 * settled by the entity's strategy; any other error marks the operation
 * `failed` (attempts + 1, last_error) for the next sync.
 *
 * Pull (per entity, parents first): page by page until `hasMore` is false,
 * upserting by server id / client id, deleting on tombstones, never touching a
 * record with a waiting local operation, and storing the new cursor only with
 * the last page.
 *
 * Only one sync runs per database at a time; concurrent `syncAll()` calls join.
 */
import { Q } from '@nozbe/watermelondb';
import type { Collection, Database, Model } from '@nozbe/watermelondb';

import { isTombstone, isoToMillis, rawToWire, wireToRaw } from './codec.js';
import type { WireItem } from './codec.js';
import type { ConflictStrategy, EntityDescriptor, FieldDescriptor } from './descriptors.js';
import { SYNC_COLUMNS } from './descriptors.js';
import { newId } from './ids.js';
import { syncLockFor } from './lock.js';
import type { SyncLock } from './lock.js';
import { byQueueOrder, foldable, foldChanges, OperationQueue, queuedChangeOf } from './queue.js';
import { ConflictRecord, OperationRecord, RUNTIME_TABLES, SyncStateRecord } from './tables.js';
import { AuthRequiredError, NetworkError } from './transport.js';
import type { GraphQLTransport, SyncResultItem } from './transport.js';

/** Pulled items applied per writer transaction (one batch): fewer, bigger SQLite transactions write each index page once. */
const PULL_APPLY_ITEMS = 10_000;
/** Pulled items fetched ahead of the group being applied. */
const PULL_AHEAD_ITEMS = 2_000;

export interface SyncEngineOptions {
  /** Items per syncPush call (default 500; the server takes up to its maxBatchSize, default 1000). */
  pushBatchSize?: number;
  /** `limit` per syncPull page (default 1000). */
  pullLimit?: number;
  /** Override how a conflict the server refused is settled on the device. */
  onConflict?: ConflictPolicy;
  /**
   * Retry ceiling for an operation the server keeps refusing (a per-item error
   * such as VALIDATION_FAILED, not a network failure): after this many attempts
   * it is no longer sent and waits for `retryGivenUp()` (default 10; 0 = never give up).
   */
  maxItemAttempts?: number;
}

/** `last_error` prefix of an operation the engine stopped sending (see `maxItemAttempts`). */
export const GAVE_UP = 'gave up: ';

/**
 * How the device settles a push the server refused as a conflict:
 * `server` adopts the server's data, `local` rebases onto the server version and
 * pushes again, `merge` adopts the server's suggested resolution and pushes it,
 * `manual` leaves it in `conflicts` for the user (the operation waits).
 */
export type ConflictDecision = 'server' | 'local' | 'merge' | 'manual';

export interface ConflictContext {
  entity: EntityDescriptor;
  operation: OperationRecord;
  pushed: WireItem;
  result: SyncResultItem;
  /** The decision the default rules would take. */
  suggested: ConflictDecision;
}

export type ConflictPolicy = (context: ConflictContext) => ConflictDecision | undefined;

export interface EntitySyncReport {
  entity: string;
  /** Items sent in syncPush calls. */
  pushed: number;
  succeeded: number;
  failed: number;
  conflicts: number;
  /** Items received in syncPull pages. */
  pulled: number;
  pages: number;
  /** Pulled items not applied because the record has a waiting local change. */
  keptLocal: number;
  /** Local records deleted by tombstones. */
  deleted: number;
}

export interface SyncReport {
  startedAt: Date;
  finishedAt: Date;
  entities: EntitySyncReport[];
}

export interface SyncMetrics {
  syncs: number;
  failedSyncs: number;
  lastSuccessfulSyncAt: Date | null;
  lastError: string | null;
  lastPushMs: number | null;
  lastPullMs: number | null;
  itemsPushed: number;
  itemsSucceeded: number;
  itemsFailed: number;
  itemsPulled: number;
  conflicts: number;
  /** Operations sent again after an earlier failure. */
  retries: number;
  /** Operations the engine stopped sending after `maxItemAttempts` refusals. */
  givenUp: number;
}

export interface ConflictInfo {
  id: string;
  entity: string;
  entityId: string;
  operation: string | null;
  conflictType: string;
  localData: WireItem | null;
  serverData: WireItem | null;
  suggestedData: unknown;
  localVersion: number | null;
  serverVersion: number | null;
  resolved: boolean;
  resolution: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export type ConflictResolution = 'server' | 'local' | { data: WireItem };

type AnyModel = Model;

function emptyReport(entity: string): EntitySyncReport {
  return { entity, pushed: 0, succeeded: 0, failed: 0, conflicts: 0, pulled: 0, pages: 0, keptLocal: 0, deleted: 0 };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function raw(record: AnyModel, column: string): unknown {
  return (record._raw as unknown as Record<string, unknown>)[column];
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isGivenUp(op: OperationRecord): boolean {
  return op.status === 'failed' && (op.lastError ?? '').startsWith(GAVE_UP);
}

export class SyncEngine {
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
  private readonly byName = new Map<string, EntityDescriptor>();
  private readonly pushBatchSize: number;
  private readonly pullLimit: number;

  constructor(
    readonly database: Database,
    readonly transport: GraphQLTransport,
    readonly entities: EntityDescriptor[],
    private readonly options: SyncEngineOptions = {},
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
          if (options.discardPending) await this.discardLocal(entity);
          else await this.resetCursor(entity);
          const seen = new Set<string>();
          await this.pullEntity(entity, report, seen);
          await this.removeUnseen(entity, seen, report);
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
        for (const entity of entities) await this.queueEverything(entity);
        await this.resetSending();
        for (const entity of entities) {
          await this.pushEntity(entity, reports.get(entity.name)!, 'local');
          // Rebased conflicts were re-queued: send them once more.
          await this.pushEntity(entity, reports.get(entity.name)!, 'local');
        }
        for (const entity of entities) await this.pullEntity(entity, reports.get(entity.name)!);
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
      await this.resetSending();
      for (const entity of entities) await this.pushEntity(entity, reports.get(entity.name)!);
      this.metrics.lastPushMs = Date.now() - t0;
    }
    if (phases.pull) {
      const t0 = Date.now();
      for (const entity of entities) await this.pullEntity(entity, reports.get(entity.name)!);
      this.metrics.lastPullMs = Date.now() - t0;
    }
    return { startedAt, finishedAt: new Date(), entities: [...reports.values()] };
  }

  // ---------------------------------------------------------------- push

  /** `sending` rows at the start of a sync are leftovers of a crash: they may have reached the server; send them again. */
  private async resetSending(): Promise<void> {
    const stale = await this.queue.collection.query(Q.where('status', 'sending')).fetch();
    if (stale.length === 0) return;
    await this.database.write(async () => {
      await this.database.batch(
        ...stale.map((op) =>
          op.prepareUpdate((o) => {
            o._setRaw('status', 'pending');
            o._setRaw('attempts', op.attempts + 1);
            o._setRaw('last_error', 'interrupted while sending');
          }),
        ),
      );
    }, 'trackhub:resetSending');
  }

  /** Folds each record's waiting operations (not sending, not awaiting a conflict) into one. */
  private async compact(entity: EntityDescriptor): Promise<void> {
    await this.database.write(async () => {
      const ops = (await this.queue.open(entity.name)).filter((op) => op.status !== 'sending' && !op.conflictId);
      const groups = new Map<string, OperationRecord[]>();
      for (const op of ops) {
        const group = groups.get(op.entityId) ?? [];
        group.push(op);
        groups.set(op.entityId, group);
      }
      // An insert that may have reached the server keeps its later updates apart (see `coalesce`): fold those only.
      for (const [entityId, group] of groups) {
        group.sort(byQueueOrder);
        if (!foldable(group.map(queuedChangeOf))) groups.set(entityId, group.slice(1));
      }
      const multi = [...groups.entries()].filter(([, group]) => group.length > 1);
      if (multi.length === 0) return;
      const cancelled = multi.filter(([, group]) => foldChanges(group.map(queuedChangeOf)) === null);
      const records = await this.findLocal(
        entity,
        cancelled.map(([id]) => id),
      );
      const prepared: AnyModel[] = [];
      for (const [entityId, group] of multi) {
        const folded = foldChanges(group.sort(byQueueOrder).map(queuedChangeOf));
        const [first, ...rest] = group.sort(byQueueOrder);
        for (const op of rest) prepared.push(op.prepareDestroyPermanently());
        if (!folded) {
          prepared.push(first!.prepareDestroyPermanently());
          const record = records.get(entityId);
          if (record) prepared.push(record.prepareDestroyPermanently());
          continue;
        }
        const last = group[group.length - 1]!;
        prepared.push(
          first!.prepareUpdate((o) => {
            o._setRaw('operation', folded.operation);
            o._setRaw('payload', JSON.stringify(folded.payload));
            o._setRaw('snapshot', folded.base ? JSON.stringify(folded.base) : null);
            if (folded.maybeSent && first!.attempts === 0) o._setRaw('attempts', 1);
            o._setRaw('status', 'pending');
            o._setRaw('updated_at', last.editedAt);
          }),
        );
      }
      await this.database.batch(...prepared);
    }, 'trackhub:compact');
  }

  private async pushEntity(entity: EntityDescriptor, report: EntitySyncReport, force?: 'local'): Promise<void> {
    await this.compact(entity);
    const attempted = new Set<string>();
    for (;;) {
      // One read of the queue per round (not per batch: 10k waiting operations would be read 100 times).
      // A record sends one operation per round; its next one (and any change made meanwhile) goes in the next round.
      const open = (await this.queue.open(entity.name)).filter(
        (op) => op.status !== 'sending' && !op.conflictId && !attempted.has(op.id) && !isGivenUp(op),
      );
      const round: OperationRecord[] = [];
      const inRound = new Set<string>();
      for (const op of open) {
        if (inRound.has(op.entityId)) continue;
        inRound.add(op.entityId);
        round.push(op);
      }
      if (round.length === 0) return;
      for (let i = 0; i < round.length; i += this.pushBatchSize) {
        const batch = round.slice(i, i + this.pushBatchSize);
        for (const op of batch) attempted.add(op.id);
        await this.pushBatch(entity, batch, report, force);
      }
    }
  }

  private async pushBatch(
    entity: EntityDescriptor,
    batch: OperationRecord[],
    report: EntitySyncReport,
    force?: 'local',
  ): Promise<void> {
    const sendable: { op: OperationRecord; item: WireItem }[] = [];
    // Read, build and mark `sending` in one writer: a local change cannot slip in between.
    await this.database.write(async () => {
      const ids = new Set(batch.map((op) => op.id));
      const fresh = (
        await this.queue.open(
          entity.name,
          batch.map((op) => op.entityId),
        )
      ).filter((op) => ids.has(op.id) && op.status !== 'sending' && !op.conflictId);
      const records = await this.findLocal(
        entity,
        fresh.map((op) => op.entityId),
      );
      const fkMaps = await this.localToRemoteIds(
        entity,
        fresh.flatMap((op) => [op.payload, op.base ?? {}]),
      );
      const orphans: OperationRecord[] = [];
      for (const op of fresh) {
        const record = records.get(op.entityId);
        if (!record) orphans.push(op);
        else sendable.push({ op, item: this.buildPushItem(entity, op, record, fkMaps) });
      }
      await this.database.batch(
        ...orphans.map((op) => op.prepareDestroyPermanently()),
        ...sendable.map(({ op }) => op.prepareUpdate((o) => o._setRaw('status', 'sending'))),
      );
    }, 'trackhub:markSending');
    if (sendable.length === 0) return;
    report.pushed += sendable.length;
    this.metrics.itemsPushed += sendable.length;
    this.metrics.retries += sendable.filter(({ op }) => op.attempts > 0).length;

    let results: SyncResultItem[];
    try {
      results = await this.transport.syncPush(
        entity.name,
        sendable.map((s) => s.item),
      );
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      await this.database.write(async () => {
        // Refused credentials: nothing was applied, so the operations wait as they were (no attempt counted).
        const refused = error instanceof AuthRequiredError;
        await this.database.batch(
          ...sendable.map(({ op }) => (refused ? this.prepareWaiting(op, message) : this.prepareFailed(op, message))),
        );
      }, 'trackhub:pushFailed');
      report.failed += sendable.length;
      this.metrics.itemsFailed += sendable.length;
      throw error;
    }
    await this.settle(entity, sendable, results, report, force);
  }

  private prepareWaiting(op: OperationRecord, message: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'pending');
      o._setRaw('last_error', message.slice(0, 2000));
    });
  }

  private prepareFailed(op: OperationRecord, message: string): OperationRecord {
    return op.prepareUpdate((o) => {
      o._setRaw('status', 'failed');
      o._setRaw('attempts', op.attempts + 1);
      o._setRaw('last_error', message.slice(0, 2000));
    });
  }

  /** Builds the pushed item: data fields (FKs translated) + clientId + id + version + updatedAt (+ deletedAt). */
  private buildPushItem(
    entity: EntityDescriptor,
    op: OperationRecord,
    record: AnyModel,
    fkMaps: Map<string, Map<string, string>>,
  ): WireItem {
    const item: WireItem = {};
    const payload = op.payload;
    if (op.operation !== 'delete') {
      for (const field of entity.fields) {
        if (!(field.name in payload)) continue;
        if (field.access === 'readonly' && op.operation !== 'insert') continue;
        let value = payload[field.name];
        if (field.relation && typeof value === 'string') value = fkMaps.get(field.relation)?.get(value) ?? value;
        item[field.name] = value;
      }
    }
    const clientId = stringOrNull(raw(record, SYNC_COLUMNS.clientId));
    const serverId = stringOrNull(raw(record, SYNC_COLUMNS.serverId));
    if (clientId) item.clientId = clientId;
    if (serverId) item.id = serverId;
    // No version for a create, nor for deleting a record the server never acknowledged
    // (a delete by clientId: the server removes its copy if the create got through).
    if (op.operation === 'update' || (op.operation === 'delete' && (serverId || !clientId))) {
      item.version = (raw(record, SYNC_COLUMNS.version) as number | null) ?? 0;
    }
    if (op.operation === 'update' && entity.conflict === 'merge') {
      const base = op.base;
      if (base) {
        const sent: Record<string, unknown> = {};
        for (const key of Object.keys(base)) if (key in item) sent[key] = base[key];
        for (const field of entity.fields) {
          const value = sent[field.name];
          if (field.relation && typeof value === 'string')
            sent[field.name] = fkMaps.get(field.relation)?.get(value) ?? value;
        }
        if (Object.keys(sent).length > 0) item._base = sent;
      }
    }
    const editedAt = new Date(op.editedAt || op.queuedAt).toISOString();
    item.updatedAt = editedAt;
    if (op.operation === 'delete') {
      item.deletedAt = editedAt;
      if (entity.tombstone === 'isDeleted') item.isDeleted = true;
    }
    return item;
  }

  private matchResults(
    sendable: { op: OperationRecord; item: WireItem }[],
    results: SyncResultItem[],
  ): (SyncResultItem | undefined)[] {
    if (results.length === sendable.length) return results;
    const byKey = new Map<string, SyncResultItem>();
    for (const result of results) {
      if (result.clientId) byKey.set(`c:${result.clientId}`, result);
      if (result.id) byKey.set(`i:${result.id}`, result);
    }
    return sendable.map(({ item }): SyncResultItem | undefined => {
      const byClient = typeof item.clientId === 'string' ? byKey.get(`c:${item.clientId}`) : undefined;
      return byClient ?? (typeof item.id === 'string' ? byKey.get(`i:${item.id}`) : undefined);
    });
  }

  private defaultDecision(entity: EntityDescriptor, op: OperationRecord, result: SyncResultItem): ConflictDecision {
    const conflict = result.conflict ?? {};
    const strategy: ConflictStrategy = entity.conflict;
    if (strategy === 'manual') return 'manual';
    if (strategy === 'merge' && isObject(conflict.resolutionSuggested) && isObject(conflict.serverData)) {
      return Object.keys(mergeChanges(entity, conflict.serverData, conflict.resolutionSuggested)).length > 0
        ? 'merge'
        : 'server';
    }
    if (strategy === 'timestamp') {
      const serverTime = isoToMillis(conflict.serverData?.updatedAt);
      const localTime = op.editedAt || op.queuedAt;
      if (serverTime !== null && serverTime === localTime) return 'manual';
    }
    return 'server';
  }

  private async settle(
    entity: EntityDescriptor,
    sendable: { op: OperationRecord; item: WireItem }[],
    results: SyncResultItem[],
    report: EntitySyncReport,
    force?: 'local',
  ): Promise<void> {
    const matched = this.matchResults(sendable, results);
    const localIds = sendable.map(({ op }) => op.entityId);
    await this.database.write(async () => {
      const records = await this.findLocal(entity, localIds);
      const conflictServerItems: WireItem[] = [];
      const settledOps = new Set(sendable.map(({ op }) => op.id));
      const plans: (() => AnyModel[])[] = [];
      // Earliest server updatedAt of a success that did not come from this item's own write (see below).
      let rewindTo: number | null = null;
      for (let i = 0; i < sendable.length; i++) {
        const { op, item } = sendable[i]!;
        const result = matched[i];
        const record = records.get(op.entityId) ?? null;
        if (!result) {
          report.failed += 1;
          this.metrics.itemsFailed += 1;
          plans.push(() => [this.prepareFailed(op, 'No result for this item in the syncPush answer')]);
          continue;
        }
        const deleteGone = op.operation === 'delete' && !result.success && result.errorCode === 'NOT_FOUND';
        if (result.success || deleteGone) {
          report.succeeded += 1;
          this.metrics.itemsSucceeded += 1;
          // A success whose version is not the one this item's own write makes (1 for a create, base + 1
          // for an update) answered from a server copy that others changed (e.g. a replayed create of a
          // record another device has since deleted). A pull may have skipped that copy while this
          // operation waited, and no new write will bring it back: pull again from its updatedAt.
          const expected = typeof item.version === 'number' ? item.version + 1 : 1;
          const at = isoToMillis(result.updatedAt);
          if (op.operation !== 'delete' && typeof result.version === 'number' && result.version !== expected && at !== null)
            rewindTo = Math.min(rewindTo ?? at, at);
          if (result.conflict) {
            report.conflicts += 1;
            this.metrics.conflicts += 1;
            plans.push(() => [
              this.prepareConflictRow(entity, op, item, result, entity.conflict === 'merge' ? 'merge' : 'local', true),
            ]);
          }
          plans.push(() => {
            const out: AnyModel[] = [op.prepareDestroyPermanently()];
            if (!record) return out;
            if (op.operation === 'delete') {
              out.push(record.prepareDestroyPermanently());
              return out;
            }
            out.push(
              record.prepareUpdate((r) => {
                if (result.id) r._setRaw(SYNC_COLUMNS.serverId, result.id);
                if (typeof result.version === 'number') r._setRaw(SYNC_COLUMNS.version, result.version);
                const updatedAt = isoToMillis(result.updatedAt);
                if (updatedAt !== null) r._setRaw(SYNC_COLUMNS.serverUpdatedAt, updatedAt);
              }),
            );
            return out;
          });
          continue;
        }
        const isConflict =
          result.errorCode === 'CONFLICT' || (result.conflict !== null && result.conflict !== undefined);
        if (!isConflict) {
          report.failed += 1;
          this.metrics.itemsFailed += 1;
          let message = `${result.errorCode ?? 'ERROR'}: ${result.errorMessage ?? 'push failed'}`;
          const max = this.options.maxItemAttempts ?? 10;
          if (max > 0 && op.attempts + 1 >= max) {
            message = `${GAVE_UP}${message}`;
            this.metrics.givenUp += 1;
          }
          plans.push(() => [this.prepareFailed(op, message)]);
          continue;
        }
        report.conflicts += 1;
        this.metrics.conflicts += 1;
        const suggested = force === 'local' ? 'local' : this.defaultDecision(entity, op, result);
        let decision =
          this.options.onConflict?.({ entity, operation: op, pushed: item, result, suggested }) ?? suggested;
        const serverData = result.conflict?.serverData ?? null;
        const serverVersion =
          result.conflict?.serverVersion ??
          (isObject(serverData) && typeof serverData.version === 'number' ? serverData.version : null);
        // Without the server's copy (or version) only the user can settle it.
        if ((decision === 'server' || decision === 'merge') && !isObject(serverData)) decision = 'manual';
        if (decision === 'local' && (serverVersion === null || !record)) decision = 'manual';
        const settledAs = decision;
        const conflictRow = (): ConflictRecord =>
          this.prepareConflictRow(entity, op, item, result, settledAs, settledAs !== 'manual');
        if (decision === 'server' && isObject(serverData)) {
          conflictServerItems.push(serverData);
          plans.push(() => [conflictRow(), op.prepareDestroyPermanently()]);
          // the record itself is overwritten below with the other server items
        } else if (decision === 'merge' && isObject(serverData)) {
          // Keep the server's copy plus the device's non-clashing changes, and push those again on top of it.
          const suggestion = isObject(result.conflict?.resolutionSuggested)
            ? (result.conflict!.resolutionSuggested as Record<string, unknown>)
            : {};
          const mergedPayload = mergeChanges(entity, serverData, suggestion);
          const base: Record<string, unknown> = {};
          for (const key of Object.keys(mergedPayload)) base[key] = serverData[key] ?? null;
          conflictServerItems.push({ ...serverData, ...mergedPayload, version: serverVersion ?? serverData.version });
          plans.push(() => [
            conflictRow(),
            op.prepareUpdate((o) => {
              o._setRaw('operation', 'update');
              o._setRaw('payload', JSON.stringify(mergedPayload));
              o._setRaw('snapshot', JSON.stringify(base));
              o._setRaw('status', 'pending');
              o._setRaw('last_error', null);
            }),
          ]);
        } else if (decision === 'local' && serverVersion !== null && record) {
          const rebased = serverVersion;
          plans.push(() => [
            conflictRow(),
            op.prepareUpdate((o) => {
              o._setRaw('status', 'pending');
              o._setRaw('attempts', op.attempts + 1);
              o._setRaw('last_error', 'CONFLICT: rebased on the server version');
            }),
            record.prepareUpdate((r) => r._setRaw(SYNC_COLUMNS.version, rebased)),
          ]);
        } else {
          plans.push(() => {
            const row = conflictRow();
            return [
              row,
              op.prepareUpdate((o) => {
                o._setRaw('status', 'failed');
                o._setRaw('attempts', op.attempts + 1);
                o._setRaw('last_error', `CONFLICT: ${result.errorMessage ?? 'waiting for resolution'}`);
                o._setRaw('conflict_id', row.id);
              }),
            ];
          });
        }
      }
      // Adopted server data is applied like pulled items; a record changed again
      // while the batch was in flight keeps its newer local data.
      const adopt =
        conflictServerItems.length > 0
          ? await this.planApply(entity, conflictServerItems, { ignoreOpIds: settledOps })
          : null;
      const state = rewindTo === null ? null : await this.syncState(entity);
      const since = state?.lastSyncAt ? Date.parse(state.lastSyncAt) : null;
      const prepared: AnyModel[] = [];
      for (const plan of plans) prepared.push(...plan());
      if (adopt) prepared.push(...adopt.prepare());
      if (state && rewindTo !== null && (since === null || Number.isNaN(since) || rewindTo - 1 < since || state.cursor)) {
        const back = since === null || Number.isNaN(since) ? rewindTo - 1 : Math.min(since, rewindTo - 1);
        prepared.push(this.prepareSyncState(entity, state, new Date(back).toISOString(), null));
      }
      await this.database.batch(...prepared);
    }, 'trackhub:settlePush');
  }

  private prepareConflictRow(
    entity: EntityDescriptor,
    op: OperationRecord,
    item: WireItem,
    result: SyncResultItem,
    resolution: ConflictDecision,
    resolved: boolean,
  ): ConflictRecord {
    const conflict = result.conflict ?? {};
    const serverData = conflict.serverData ?? null;
    const now = Date.now();
    const serverVersion =
      conflict.serverVersion ??
      (isObject(serverData) && typeof serverData.version === 'number' ? serverData.version : null);
    const serverDeleted = isObject(serverData) && isTombstone(serverData);
    return this.database.get<ConflictRecord>(RUNTIME_TABLES.conflicts).prepareCreate((c) => {
      c._raw.id = newId();
      c._setRaw('entity', entity.name);
      c._setRaw('entity_id', op.entityId);
      c._setRaw('operation', op.operation);
      c._setRaw('local_data', JSON.stringify(item));
      c._setRaw('server_data', serverData === null ? null : JSON.stringify(serverData));
      c._setRaw(
        'suggested_data',
        conflict.resolutionSuggested === undefined || conflict.resolutionSuggested === null
          ? null
          : JSON.stringify(conflict.resolutionSuggested),
      );
      c._setRaw('local_version', typeof item.version === 'number' ? item.version : null);
      c._setRaw('server_version', serverVersion);
      c._setRaw(
        'conflict_type',
        serverDeleted ? 'deleted_on_server' : op.operation === 'delete' ? 'delete_update' : 'version_mismatch',
      );
      c._setRaw('resolved', resolved);
      c._setRaw('resolution', resolved ? resolution : null);
      c._setRaw('created_at', now);
      c._setRaw('resolved_at', resolved ? now : null);
    });
  }

  // ---------------------------------------------------------------- pull

  private async syncState(entity: EntityDescriptor): Promise<SyncStateRecord | null> {
    const rows = await this.database
      .get<SyncStateRecord>(RUNTIME_TABLES.syncState)
      .query(Q.where('entity', entity.name))
      .fetch();
    return rows[0] ?? null;
  }

  private async pullEntity(entity: EntityDescriptor, report: EntitySyncReport, seen?: Set<string>): Promise<void> {
    const state = await this.syncState(entity);
    const since = state?.lastSyncAt ?? null;
    type Page = Awaited<ReturnType<GraphQLTransport['syncPull']>>;
    // A reader fetches pages ahead (up to about PULL_AHEAD_ITEMS items) while the pages
    // already fetched are applied in groups of about PULL_APPLY_ITEMS items, one writer
    // transaction (one batch) per group.
    const queue: Page[] = [];
    let queued = 0;
    let readerFailed: { error: unknown } | null = null;
    let readerDone = false;
    let stopped = false;
    let wakeReader: (() => void) | null = null;
    let wakeApplier: (() => void) | null = null;
    const wake = (which: 'reader' | 'applier'): void => {
      const fn = which === 'reader' ? wakeReader : wakeApplier;
      if (which === 'reader') wakeReader = null;
      else wakeApplier = null;
      fn?.();
    };
    void (async () => {
      let cursor = state?.cursor ?? null;
      let pageSince = since;
      for (;;) {
        while (queued >= PULL_AHEAD_ITEMS && !stopped) await new Promise<void>((resolve) => (wakeReader = resolve));
        if (stopped) return;
        const page = await this.transport.syncPull({ entity: entity.name, since: pageSince, limit: this.pullLimit, cursor });
        queue.push(page);
        queued += page.items.length;
        wake('applier');
        const nextCursor = page.cursor ?? null;
        if (!page.hasMore || (!nextCursor && page.items.length === 0)) return;
        if (nextCursor) cursor = nextCursor;
        else {
          // A server without cursors: continue from the newest item of the page.
          const newest = page.items
            .map((i) => String(i.updatedAt ?? ''))
            .sort()
            .pop();
          pageSince = newest || pageSince;
        }
      }
    })()
      .catch((error: unknown) => {
        readerFailed = { error };
      })
      .finally(() => {
        readerDone = true;
        wake('applier');
      });

    let group: WireItem[] = [];
    try {
      for (;;) {
        while (queue.length === 0) {
          if (readerFailed) throw (readerFailed as { error: unknown }).error;
          if (readerDone) throw new Error(`syncPull(${entity.name}): the page reader stopped early`);
          await new Promise<void>((resolve) => (wakeApplier = resolve));
        }
        const page = queue.shift()!;
        queued -= page.items.length;
        wake('reader');
        report.pages += 1;
        report.pulled += page.items.length;
        this.metrics.itemsPulled += page.items.length;
        if (seen) for (const item of page.items) if (typeof item.id === 'string') seen.add(item.id);
        const last = !page.hasMore;
        const nextCursor = page.cursor ?? null;
        if (!last && !nextCursor && page.items.length === 0)
          throw new Error(`syncPull(${entity.name}) answered hasMore without items or cursor`);
        for (const item of page.items) group.push(item);
        if (!last && group.length < PULL_APPLY_ITEMS) continue;
        const items = group;
        group = [];
        await this.database.write(async () => {
          const applied = await this.planApply(entity, items);
          report.keptLocal += applied.keptLocal;
          report.deleted += applied.deleted;
          const prepared = applied.prepare();
          if (last) prepared.push(this.prepareSyncState(entity, state, page.lastSyncAt, nextCursor));
          await this.database.batch(prepared);
        }, 'trackhub:pullPage');
        if (last) return;
      }
    } finally {
      // Pages fetched ahead of a failure are dropped; a fetch in flight ends on its own.
      stopped = true;
      wake('reader');
    }
  }

  private prepareSyncState(
    entity: EntityDescriptor,
    state: SyncStateRecord | null,
    lastSyncAt: string | null,
    cursor: string | null,
  ): AnyModel {
    const now = Date.now();
    if (state) {
      return state.prepareUpdate((s) => {
        s._setRaw('last_sync_at', lastSyncAt);
        s._setRaw('cursor', cursor);
        s._setRaw('updated_at', now);
      });
    }
    return this.database.get<SyncStateRecord>(RUNTIME_TABLES.syncState).prepareCreate((s) => {
      s._raw.id = newId();
      s._setRaw('entity', entity.name);
      s._setRaw('last_sync_at', lastSyncAt);
      s._setRaw('cursor', cursor);
      s._setRaw('updated_at', now);
    });
  }

  /**
   * Plans applying server items (pulled, or adopted after a conflict) to the
   * entity table. Asynchronous lookups happen here; `prepare()` must be
   * called right before `database.batch`.
   */
  private async planApply(
    entity: EntityDescriptor,
    items: WireItem[],
    options: { force?: boolean; ignoreOpIds?: Set<string> } = {},
  ): Promise<{ prepare: () => AnyModel[]; keptLocal: number; deleted: number }> {
    // Last item wins when a page repeats a record.
    const unique = new Map<string, WireItem>();
    for (const item of items) {
      const key = typeof item.id === 'string' ? item.id : stringOrNull(item.clientId);
      if (key) unique.set(key, item);
    }
    const list = [...unique.values()];
    const serverIds = list.map((i) => i.id).filter((v): v is string => typeof v === 'string');
    const candidateIds = list
      .map((i) => stringOrNull(i.clientId) ?? (typeof i.id === 'string' ? i.id : null))
      .filter((v): v is string => v !== null);
    const collection = this.collection(entity);
    // An empty table (an initial pull) has nothing to look up: every item is new.
    const empty = await this.tableIsEmpty(entity);
    const bySid = new Map<string, AnyModel>();
    for (const chunk of empty ? [] : chunks(serverIds, 500)) {
      for (const record of await collection.query(Q.where(SYNC_COLUMNS.serverId, Q.oneOf(chunk))).fetch()) {
        bySid.set(raw(record, SYNC_COLUMNS.serverId) as string, record);
      }
    }
    const byLocal = empty ? new Map<string, AnyModel>() : await this.findLocal(entity, candidateIds);
    const fkMaps = await this.remoteToLocalIds(entity, list);
    const touched = new Set<string>();
    const targets: { item: WireItem; existing: AnyModel | null; localId: string }[] = [];
    for (const item of list) {
      const sid = typeof item.id === 'string' ? item.id : null;
      const cid = stringOrNull(item.clientId);
      const existing = (sid ? bySid.get(sid) : undefined) ?? byLocal.get(cid ?? sid ?? '') ?? null;
      const localId = existing?.id ?? cid ?? sid;
      if (!localId || touched.has(localId)) continue;
      touched.add(localId);
      targets.push({ item, existing, localId });
    }
    const withOps = new Set<string>();
    if (!options.force) {
      for (const op of await this.queue.open(
        entity.name,
        targets.map((t) => t.localId),
      )) {
        if (!options.ignoreOpIds?.has(op.id)) withOps.add(op.entityId);
      }
    }
    let keptLocal = 0;
    let deleted = 0;
    const apply = targets.filter((t) => {
      if (withOps.has(t.localId)) {
        keptLocal += 1;
        return false;
      }
      if (isTombstone(t.item)) {
        if (t.existing) deleted += 1;
        return t.existing !== null;
      }
      return true;
    });
    const prepare = (): AnyModel[] =>
      apply.map(({ item, existing, localId }) => {
        if (isTombstone(item)) return existing!.prepareDestroyPermanently();
        const write = (r: AnyModel): void => this.writeServerFields(entity, r, item, fkMaps);
        if (existing) return existing.prepareUpdate(write);
        // A new record straight from its raw columns (what prepareCreate + writeServerFields would set).
        return collection.prepareCreateFromDirtyRaw(this.serverRaw(entity, item, localId, fkMaps));
      });
    return { prepare, keptLocal, deleted };
  }

  private serverRaw(entity: EntityDescriptor, item: WireItem, localId: string, fkMaps: Map<string, Map<string, string>>): Record<string, unknown> {
    const out: Record<string, unknown> = { id: localId };
    for (const field of entity.fields) {
      if (!(field.name in item)) continue;
      let value = item[field.name];
      if (field.relation && typeof value === 'string') value = fkMaps.get(field.relation)?.get(value) ?? value;
      out[field.column] = wireToRaw(field, value);
    }
    out[SYNC_COLUMNS.clientId] = stringOrNull(item.clientId);
    if (typeof item.id === 'string') out[SYNC_COLUMNS.serverId] = item.id;
    if (typeof item.version === 'number') out[SYNC_COLUMNS.version] = item.version;
    const updatedAt = isoToMillis(item.updatedAt);
    if (updatedAt !== null) out[SYNC_COLUMNS.serverUpdatedAt] = updatedAt;
    out[SYNC_COLUMNS.deletedAt] = null;
    return out;
  }

  private writeServerFields(
    entity: EntityDescriptor,
    record: AnyModel,
    item: WireItem,
    fkMaps: Map<string, Map<string, string>>,
  ): void {
    for (const field of entity.fields) {
      if (!(field.name in item)) continue;
      let value = item[field.name];
      if (field.relation && typeof value === 'string') value = fkMaps.get(field.relation)?.get(value) ?? value;
      record._setRaw(field.column, wireToRaw(field, value));
    }
    if (typeof item.id === 'string') record._setRaw(SYNC_COLUMNS.serverId, item.id);
    const clientId = stringOrNull(item.clientId);
    if (clientId && !stringOrNull(raw(record, SYNC_COLUMNS.clientId))) record._setRaw(SYNC_COLUMNS.clientId, clientId);
    if (typeof item.version === 'number') record._setRaw(SYNC_COLUMNS.version, item.version);
    const updatedAt = isoToMillis(item.updatedAt);
    if (updatedAt !== null) record._setRaw(SYNC_COLUMNS.serverUpdatedAt, updatedAt);
    record._setRaw(SYNC_COLUMNS.deletedAt, null);
  }

  /** Writes server-shaped items (e.g. an online create's answer) locally, as synced. Records with waiting local changes are kept. */
  async applyServerItems(entity: EntityDescriptor, items: WireItem[]): Promise<void> {
    await this.database.write(async () => {
      const applied = await this.planApply(entity, items);
      await this.database.batch(...applied.prepare());
    }, 'trackhub:applyServerItems');
  }

  /** Translates the foreign keys of wire-shaped values from local ids to server ids (else client ids). */
  async translateForServer(
    entity: EntityDescriptor,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const maps = await this.localToRemoteIds(entity, [values]);
    const out = { ...values };
    for (const field of this.relationFields(entity)) {
      const value = out[field.name];
      if (typeof value === 'string') out[field.name] = maps.get(field.relation!)?.get(value) ?? value;
    }
    return out;
  }

  // ---------------------------------------------------------------- id translation

  /** Local records by local id. */
  async findLocal(entity: EntityDescriptor, ids: string[]): Promise<Map<string, AnyModel>> {
    const out = new Map<string, AnyModel>();
    const unique = [...new Set(ids)];
    for (const chunk of chunks(unique, 500)) {
      for (const record of await this.collection(entity)
        .query(Q.where('id', Q.oneOf(chunk)))
        .fetch())
        out.set(record.id, record);
    }
    return out;
  }

  /**
   * Whether the entity's table holds no row at all (whatever its status). Call it
   * inside a writer, so no row can appear before the caller's batch. On SQLite it is
   * one `limit 1` query; an adapter without SQL (LokiJS in the browser) counts the
   * live rows and asks for the locally deleted ones (no SQL, so nothing is logged).
   */
  private async tableIsEmpty(entity: EntityDescriptor): Promise<boolean> {
    const adapter = this.database.adapter;
    if (isSqlAdapter(adapter.underlyingAdapter)) {
      const rows = await this.collection(entity)
        .query(Q.unsafeSqlQuery(`select id from "${entity.table}" limit 1`))
        .unsafeFetchRaw();
      return rows.length === 0;
    }
    if ((await this.collection(entity).query().fetchCount()) > 0) return false;
    return (await adapter.getDeletedRecords(entity.table)).length === 0;
  }

  private relationFields(entity: EntityDescriptor): FieldDescriptor[] {
    return entity.fields.filter((f) => f.relation && this.byName.has(f.relation));
  }

  /** For push: referenced entity -> (local id -> server id, else client id). */
  private async localToRemoteIds(
    entity: EntityDescriptor,
    payloads: Record<string, unknown>[],
  ): Promise<Map<string, Map<string, string>>> {
    const maps = new Map<string, Map<string, string>>();
    for (const field of this.relationFields(entity)) {
      const target = this.entity(field.relation!);
      const ids = payloads.map((p) => p[field.name]).filter((v): v is string => typeof v === 'string');
      const map = maps.get(target.name) ?? new Map<string, string>();
      for (const [id, record] of await this.findLocal(target, ids)) {
        map.set(
          id,
          stringOrNull(raw(record, SYNC_COLUMNS.serverId)) ?? stringOrNull(raw(record, SYNC_COLUMNS.clientId)) ?? id,
        );
      }
      maps.set(target.name, map);
    }
    return maps;
  }

  /** For pull: referenced entity -> (server id -> local id). */
  private async remoteToLocalIds(
    entity: EntityDescriptor,
    items: WireItem[],
  ): Promise<Map<string, Map<string, string>>> {
    const maps = new Map<string, Map<string, string>>();
    for (const field of this.relationFields(entity)) {
      const target = this.entity(field.relation!);
      const ids = [...new Set(items.map((i) => i[field.name]).filter((v): v is string => typeof v === 'string'))];
      const map = maps.get(target.name) ?? new Map<string, string>();
      for (const chunk of chunks(ids, 500)) {
        // Raw rows: only two columns are needed, no Model objects.
        const rows = (await this.collection(target)
          .query(Q.where(SYNC_COLUMNS.serverId, Q.oneOf(chunk)))
          .unsafeFetchRaw()) as Record<string, unknown>[];
        for (const row of rows) map.set(row[SYNC_COLUMNS.serverId] as string, row.id as string);
      }
      maps.set(target.name, map);
    }
    return maps;
  }

  // ---------------------------------------------------------------- force modes

  private async discardLocal(entity: EntityDescriptor): Promise<void> {
    await this.database.write(async () => {
      const ops = await this.queue.collection.query(Q.where('entity', entity.name)).fetch();
      const localOnly = await this.collection(entity).query(Q.where(SYNC_COLUMNS.serverId, null)).fetch();
      const state = await this.syncState(entity);
      await this.database.batch(
        ...ops.map((op) => op.prepareDestroyPermanently()),
        ...localOnly.map((r) => r.prepareDestroyPermanently()),
        state ? state.prepareDestroyPermanently() : null,
      );
    }, 'trackhub:discardLocal');
  }

  private async resetCursor(entity: EntityDescriptor): Promise<void> {
    const state = await this.syncState(entity);
    if (!state) return;
    await this.database.write(async () => {
      await this.database.batch(state.prepareDestroyPermanently());
    }, 'trackhub:resetCursor');
  }

  /** Removes records the server did not send in a full pull (records with a waiting operation stay). */
  private async removeUnseen(entity: EntityDescriptor, seen: Set<string>, report: EntitySyncReport): Promise<void> {
    await this.database.write(async () => {
      const all = await this.collection(entity).query().fetch();
      const waiting = await this.queue.recordsWithOpenOps(entity.name);
      const gone = all.filter((r) => {
        const sid = stringOrNull(raw(r, SYNC_COLUMNS.serverId));
        return sid !== null && !seen.has(sid) && !waiting.has(r.id);
      });
      report.deleted += gone.length;
      await this.database.batch(...gone.map((r) => r.prepareDestroyPermanently()));
    }, 'trackhub:removeUnseen');
  }

  private async queueEverything(entity: EntityDescriptor): Promise<void> {
    await this.database.write(async () => {
      const records = await this.collection(entity).query().fetch();
      const waiting = await this.queue.recordsWithOpenOps(entity.name);
      const prepared: AnyModel[] = [];
      const now = Date.now();
      for (const record of records) {
        if (waiting.has(record.id)) continue;
        const deleted =
          raw(record, SYNC_COLUMNS.deletedAt) !== null && raw(record, SYNC_COLUMNS.deletedAt) !== undefined;
        const serverId = stringOrNull(raw(record, SYNC_COLUMNS.serverId));
        const payload: Record<string, unknown> = {};
        if (!deleted)
          for (const field of entity.fields) payload[field.name] = rawToWire(field, raw(record, field.column));
        const operation = deleted ? 'delete' : serverId ? 'update' : 'insert';
        prepared.push(
          ...this.queue.prepare(
            {
              change: { entity: entity.name, entityId: record.id, operation, payload },
              decision: { kind: 'append' },
              target: null,
            },
            now,
          ),
        );
      }
      await this.database.batch(...prepared);
    }, 'trackhub:queueEverything');
  }

  // ---------------------------------------------------------------- conflicts

  /** Operations the engine stopped sending (see `maxItemAttempts`), oldest first. */
  async givenUp(entity?: string): Promise<OperationRecord[]> {
    return (await this.queue.open(entity)).filter(isGivenUp);
  }

  /** Makes given-up operations eligible again (attempts restart at 0); they go with the next sync. */
  async retryGivenUp(entity?: string): Promise<number> {
    const ops = await this.givenUp(entity);
    if (ops.length === 0) return 0;
    await this.database.write(async () => {
      await this.database.batch(
        ...ops.map((op) =>
          op.prepareUpdate((o) => {
            o._setRaw('status', 'pending');
            o._setRaw('attempts', 0);
          }),
        ),
      );
    }, 'trackhub:retryGivenUp');
    return ops.length;
  }

  async listConflicts(filter: { entity?: string; resolved?: boolean } = {}): Promise<ConflictInfo[]> {
    const clauses = [];
    if (filter.entity) clauses.push(Q.where('entity', filter.entity));
    if (filter.resolved !== undefined) clauses.push(Q.where('resolved', filter.resolved));
    const rows = await this.database
      .get<ConflictRecord>(RUNTIME_TABLES.conflicts)
      .query(...clauses)
      .fetch();
    return rows
      .map((row) => {
        const get = (c: string): unknown => raw(row, c);
        return {
          id: row.id,
          entity: get('entity') as string,
          entityId: get('entity_id') as string,
          operation: (get('operation') as string | null) ?? null,
          conflictType: get('conflict_type') as string,
          localData: parseJson(get('local_data')) as WireItem | null,
          serverData: parseJson(get('server_data')) as WireItem | null,
          suggestedData: parseJson(get('suggested_data')),
          localVersion: (get('local_version') as number | null) ?? null,
          serverVersion: (get('server_version') as number | null) ?? null,
          resolved: get('resolved') === true,
          resolution: (get('resolution') as string | null) ?? null,
          createdAt: new Date(get('created_at') as number),
          resolvedAt: typeof get('resolved_at') === 'number' ? new Date(get('resolved_at') as number) : null,
        };
      })
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * Settles a conflict left for the user: `server` adopts the server's data,
   * `local` keeps the device's change and pushes it over the server version,
   * `{ data }` (wire-shaped fields) writes a merged result and pushes it.
   */
  async resolveConflict(conflictId: string, resolution: ConflictResolution): Promise<void> {
    const conflicts = this.database.get<ConflictRecord>(RUNTIME_TABLES.conflicts);
    await this.database.write(async () => {
      const row = await conflicts.find(conflictId);
      if (row.resolved) return;
      const entity = this.entity(row.entity);
      const serverData = parseJson(raw(row, 'server_data'));
      const serverVersion =
        (raw(row, 'server_version') as number | null) ??
        (isObject(serverData) && typeof serverData.version === 'number' ? serverData.version : null);
      const ops = await this.queue.open(entity.name, [row.entityId]);
      const records = await this.findLocal(entity, [row.entityId]);
      const record = records.get(row.entityId) ?? null;
      const now = Date.now();
      const label = resolution === 'server' || resolution === 'local' ? resolution : 'merge';
      const prepared: AnyModel[] = [];
      if (resolution === 'server') {
        const adopt = isObject(serverData) ? await this.planApply(entity, [serverData], { force: true }) : null;
        prepared.push(...ops.map((op) => op.prepareDestroyPermanently()));
        if (adopt) prepared.push(...adopt.prepare());
      } else {
        const data = resolution === 'local' ? null : resolution.data;
        const [first, ...rest] = ops;
        prepared.push(...rest.map((op) => op.prepareDestroyPermanently()));
        if (first) {
          prepared.push(
            first.prepareUpdate((o) => {
              if (data) {
                const payload: Record<string, unknown> = { ...first.payload };
                for (const field of entity.fields)
                  if (field.name in data && field.access !== 'readonly') payload[field.name] = data[field.name];
                o._setRaw('payload', JSON.stringify(payload));
                if (first.operation === 'delete') o._setRaw('operation', 'update');
              }
              o._setRaw('status', 'pending');
              o._setRaw('conflict_id', null);
              o._setRaw('last_error', null);
              o._setRaw('updated_at', now);
            }),
          );
        }
        if (record) {
          prepared.push(
            record.prepareUpdate((r) => {
              if (serverVersion !== null) r._setRaw(SYNC_COLUMNS.version, serverVersion);
              if (data) {
                for (const field of entity.fields)
                  if (field.name in data && field.access !== 'readonly')
                    r._setRaw(field.column, wireToRaw(field, data[field.name]));
                r._setRaw(SYNC_COLUMNS.deletedAt, null);
              }
            }),
          );
        }
      }
      prepared.push(
        row.prepareUpdate((c) => {
          c._setRaw('resolved', true);
          c._setRaw('resolution', label);
          c._setRaw('resolved_at', now);
        }),
      );
      await this.database.batch(...prepared);
    }, 'trackhub:resolveConflict');
  }
}

/** Writable fields where a merge suggestion differs from the server's copy. */
function mergeChanges(
  entity: EntityDescriptor,
  serverData: Record<string, unknown>,
  suggestion: Record<string, unknown>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of entity.fields) {
    if (field.access === 'readonly' || !(field.name in suggestion)) continue;
    if (JSON.stringify(suggestion[field.name] ?? null) !== JSON.stringify(serverData[field.name] ?? null))
      changes[field.name] = suggestion[field.name];
  }
  return changes;
}

function* chunks<T>(values: T[], size: number): Generator<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size);
}

export { NetworkError };

/** WatermelonDB's SQLite adapter (Node, React Native) runs `Q.unsafeSqlQuery`; LokiJS does not. */
function isSqlAdapter(adapter: unknown): boolean {
  return typeof adapter === 'object' && adapter !== null && '_dispatcherType' in adapter;
}
