/**
 * Push, per entity (creates and updates parents first, deletes children first): fold each record's waiting operations into one
 * (compact), send them in batches (`pending` -> `sending`, one operation per record
 * and round), and settle every item from its answer: the decision is
 * decidePushOutcome (push-outcome.ts), the writes are here, and the queue's
 * columns are written through OperationQueue.
 */
import { Q } from '@nozbe/watermelondb';

import { isoToMillis, rawToWire } from '../codec.js';
import type { WireItem } from '../codec.js';
import type { EntityDescriptor } from '../descriptors.js';
import { SYNC_COLUMNS } from '../descriptors.js';
import { byQueueOrder, foldable, foldChanges, queuedChangeOf, refusedInsert } from '../queue.js';
import type { ConflictRecord, OperationRecord } from '../tables.js';
import { wireToRaw } from '../codec.js';
import { refusedMessage } from '../hooks.js';
import { AuthRequiredError } from '../transport.js';
import type { SyncResultItem } from '../transport.js';
import { planApply, prepareSyncState, syncStates } from './apply-remote.js';
import { STREAM_CURSOR_PREFIX } from '../../../contract/scopes.js';
import { prepareConflictRow } from './conflicts.js';
import type { EngineContext } from './context.js';
import { findLocal, localToRemoteIds } from './ids.js';
import { decidePushOutcome } from './push-outcome.js';
import { GAVE_UP, isGivenUp, raw, stringOrNull, type AnyModel, type ConflictDecision, type EntitySyncReport } from './types.js';

/** `sending` rows at the start of a sync are leftovers of a crash: they may have reached the server; send them again. */
export async function resetSending(ctx: EngineContext): Promise<void> {
  const stale = await ctx.queue.collection.query(Q.where('status', 'sending')).fetch();
  if (stale.length === 0) return;
  await ctx.database.write(async () => {
    await ctx.database.batch(
      ...stale.map((op) => ctx.queue.prepareRetry(op, 'interrupted while sending')),
    );
  }, 'trackhub:resetSending');
}

/** Folds each record's waiting operations (not sending, not awaiting a conflict) into one. */
export async function compact(ctx: EngineContext, entity: EntityDescriptor): Promise<void> {
  await ctx.database.write(async () => {
    const ops = (await ctx.queue.open(entity.name)).filter((op) => op.status !== 'sending' && !op.conflictId);
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
    const records = await findLocal(
      ctx,
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
      prepared.push(ctx.queue.prepareFold(first!, folded, last.editedAt));
    }
    await ctx.database.batch(...prepared);
  }, 'trackhub:compact');
}

/**
 * Pushes every entity: creates and updates parents first (a child's parent exists on the
 * server before it), then deletes children first (a parent whose relations are
 * `onDelete: Restrict` has no live children left when its delete arrives).
 */
export async function pushEntities(
  ctx: EngineContext,
  entities: readonly EntityDescriptor[],
  reports: Map<string, EntitySyncReport>,
  force?: 'local',
): Promise<void> {
  for (const entity of entities) await pushEntity(ctx, entity, reports.get(entity.name)!, force, 'changes');
  for (const entity of [...entities].reverse()) await pushEntity(ctx, entity, reports.get(entity.name)!, force, 'deletes');
}

/** Which operations a push sends: `changes` (creates and updates), `deletes`, or both. */
export type PushPhase = 'changes' | 'deletes' | 'all';

export async function pushEntity(
  ctx: EngineContext,
  entity: EntityDescriptor,
  report: EntitySyncReport,
  force?: 'local',
  phase: PushPhase = 'all',
): Promise<void> {
  await compact(ctx, entity);
  const attempted = new Set<string>();
  for (;;) {
    // One read of the queue per round (not per batch: 10k waiting operations would be read 100 times).
    // A record sends one operation per round; its next one (and any change made meanwhile) goes in the next round.
    const open = (await ctx.queue.open(entity.name)).filter(
      (op) => op.status !== 'sending' && !op.conflictId && !attempted.has(op.id) && !isGivenUp(op),
    );
    const round: OperationRecord[] = [];
    const inRound = new Set<string>();
    for (const op of open) {
      if (inRound.has(op.entityId)) continue;
      inRound.add(op.entityId);
      // A record's next operation decides its phase; the ones after it wait for it either way.
      if (phase !== 'all' && (op.operation === 'delete') !== (phase === 'deletes')) continue;
      round.push(op);
    }
    if (round.length === 0) return;
    for (let i = 0; i < round.length; i += ctx.pushBatchSize) {
      const batch = round.slice(i, i + ctx.pushBatchSize);
      for (const op of batch) attempted.add(op.id);
      await pushBatch(ctx, entity, batch, report, force);
    }
  }
}

export async function pushBatch(
  ctx: EngineContext,
  entity: EntityDescriptor,
  batch: OperationRecord[],
  report: EntitySyncReport,
  force?: 'local',
): Promise<void> {
  const sendable: { op: OperationRecord; item: WireItem }[] = [];
  // Read, build and mark `sending` in one writer: a local change cannot slip in between.
  await ctx.database.write(async () => {
    const ids = new Set(batch.map((op) => op.id));
    const fresh = (
      await ctx.queue.open(
        entity.name,
        batch.map((op) => op.entityId),
      )
    ).filter((op) => ids.has(op.id) && op.status !== 'sending' && !op.conflictId);
    const records = await findLocal(
      ctx,
      entity,
      fresh.map((op) => op.entityId),
    );
    // A create the server refused goes again with the record's current values (queue.ts).
    const refreshed = new Map<string, Record<string, unknown>>();
    for (const op of fresh) {
      const record = records.get(op.entityId);
      if (record && refusedInsert(op)) refreshed.set(op.id, currentInsertPayload(entity, op.payload, record));
    }
    const payloadOf = (op: OperationRecord) => refreshed.get(op.id) ?? op.payload;
    const fkMaps = await localToRemoteIds(
      ctx,
      entity,
      fresh.flatMap((op) => [payloadOf(op), op.base ?? {}]),
    );
    const orphans: OperationRecord[] = [];
    const refused: AnyModel[] = [];
    const adjustedRecords: AnyModel[] = [];
    const adjusted = new Map<string, Record<string, unknown>>();
    const beforePush = ctx.options.hooks?.[entity.name]?.beforePush;
    for (const op of fresh) {
      const record = records.get(op.entityId);
      if (!record) {
        orphans.push(op);
        continue;
      }
      if (beforePush) {
        const decision = await beforePush({ entity: entity.name, operation: op.operation, id: op.entityId, values: { ...payloadOf(op) } });
        if (decision && 'refuse' in decision) {
          refused.push(ctx.queue.prepareFailed(op, `${GAVE_UP}${refusedMessage(decision.refuse)}`));
          report.failed += 1;
          ctx.metrics.itemsFailed += 1;
          ctx.metrics.givenUp += 1;
          continue;
        }
        if (decision && 'values' in decision && op.operation !== 'delete') {
          const values = adjustValues(entity, decision.values);
          adjusted.set(op.id, { ...payloadOf(op), ...values });
          // The device record takes the adjusted values too, so device and server agree.
          adjustedRecords.push(
            record.prepareUpdate((r) => {
              for (const field of entity.fields) if (field.name in values) r._setRaw(field.column, wireToRaw(field, values[field.name]));
            }),
          );
        }
      }
      if (!adjusted.has(op.id) && refreshed.has(op.id)) adjusted.set(op.id, refreshed.get(op.id)!);
      sendable.push({ op, item: buildPushItem(entity, op, record, fkMaps, adjusted.get(op.id)) });
    }
    await ctx.database.batch(
      ...orphans.map((op) => op.prepareDestroyPermanently()),
      ...refused,
      ...adjustedRecords,
      ...sendable.map(({ op }) => ctx.queue.prepareSending(op, adjusted.get(op.id))),
    );
  }, 'trackhub:markSending');
  if (sendable.length === 0) return;
  report.pushed += sendable.length;
  ctx.metrics.itemsPushed += sendable.length;
  ctx.metrics.retries += sendable.filter(({ op }) => op.attempts > 0).length;

  let results: SyncResultItem[];
  try {
    results = await ctx.transport.syncPush(
      entity.name,
      sendable.map((s) => s.item),
    );
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    // Refused credentials: nothing was applied, so the operations wait as they were (no attempt counted).
    const refused = error instanceof AuthRequiredError;
    await ctx.database.write(async () => {
      await ctx.database.batch(
        ...sendable.map(({ op }) => (refused ? ctx.queue.prepareWaiting(op, message) : ctx.queue.prepareFailed(op, message))),
      );
    }, 'trackhub:pushFailed');
    report.failed += sendable.length;
    ctx.metrics.itemsFailed += sendable.length;
    throw error;
  }
  await settle(ctx, entity, sendable, results, report, force);
}

/**
 * A refused create's payload brought up to date: its fields, and any field a later local
 * change set, with the record's current (wire-shaped) values.
 */
function currentInsertPayload(entity: EntityDescriptor, payload: Record<string, unknown>, record: AnyModel): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const field of entity.fields) {
    const value = rawToWire(field, raw(record, field.column));
    if (field.name in payload || (value !== null && value !== undefined)) out[field.name] = value;
  }
  return out;
}

/** The values a `beforePush` hook adjusted: data fields of the entity, relation keys excluded. */
function adjustValues(entity: EntityDescriptor, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const field = entity.fields.find((f) => f.name === name);
    if (!field) throw new Error(`beforePush of ${entity.name} returned an unknown field "${name}"`);
    if (field.relation) throw new Error(`beforePush of ${entity.name} cannot change the relation key "${name}"`);
    out[name] = value;
  }
  return out;
}

/** Builds the pushed item: data fields (FKs translated) + clientId + id + version + updatedAt (+ deletedAt). */
export function buildPushItem(
  entity: EntityDescriptor,
  op: OperationRecord,
  record: AnyModel,
  fkMaps: Map<string, Map<string, string>>,
  payloadOverride?: Record<string, unknown>,
): WireItem {
  const item: WireItem = {};
  const payload = payloadOverride ?? op.payload;
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
  }
  return item;
}

export function matchResults(
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

export async function settle(
  ctx: EngineContext,
  entity: EntityDescriptor,
  sendable: { op: OperationRecord; item: WireItem }[],
  results: SyncResultItem[],
  report: EntitySyncReport,
  force?: 'local',
): Promise<void> {
  const matched = matchResults(sendable, results);
  const localIds = sendable.map(({ op }) => op.entityId);
  await ctx.database.write(async () => {
    const records = await findLocal(ctx, entity, localIds);
    const conflictServerItems: WireItem[] = [];
    const settledOps = new Set(sendable.map(({ op }) => op.id));
    const plans: (() => AnyModel[])[] = [];
    // Earliest server updatedAt of a success that did not come from this item's own write (see below).
    let rewindTo: number | null = null;
    /** Stamps of successes with their own write's version (push-outcome.ts, `ownStampAt`). */
    const ownStamps: number[] = [];
    const maxItemAttempts = ctx.options.maxItemAttempts ?? 10;
    const onConflict = ctx.options.onConflict;
    for (let i = 0; i < sendable.length; i++) {
      const { op, item } = sendable[i]!;
      const result = matched[i];
      const record = records.get(op.entityId) ?? null;
      const outcome = decidePushOutcome({
        entity,
        op,
        item,
        result,
        hasRecord: record !== null,
        maxItemAttempts,
        ...(force ? { force } : {}),
        ...(onConflict && result
          ? { policy: (suggested: ConflictDecision) => onConflict({ entity, operation: op, pushed: item, result, suggested }) }
          : {}),
      });
      if (outcome.kind === 'failed') {
        report.failed += 1;
        ctx.metrics.itemsFailed += 1;
        if (outcome.givenUp) ctx.metrics.givenUp += 1;
        plans.push(() => [ctx.queue.prepareFailed(op, outcome.message)]);
        continue;
      }
      const answer = result!;
      if (outcome.kind === 'succeeded') {
        report.succeeded += 1;
        ctx.metrics.itemsSucceeded += 1;
        if (outcome.rewindTo !== null) rewindTo = Math.min(rewindTo ?? outcome.rewindTo, outcome.rewindTo);
        if (outcome.ownStampAt !== null) ownStamps.push(outcome.ownStampAt);
        const settledConflict = outcome.settledConflict;
        if (settledConflict) {
          report.conflicts += 1;
          ctx.metrics.conflicts += 1;
          plans.push(() => [prepareConflictRow(ctx, entity, op, item, answer, settledConflict, true)]);
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
              if (answer.id) r._setRaw(SYNC_COLUMNS.serverId, answer.id);
              if (typeof answer.version === 'number') r._setRaw(SYNC_COLUMNS.version, answer.version);
              const updatedAt = isoToMillis(answer.updatedAt);
              if (updatedAt !== null) r._setRaw(SYNC_COLUMNS.serverUpdatedAt, updatedAt);
            }),
          );
          return out;
        });
        continue;
      }
      report.conflicts += 1;
      ctx.metrics.conflicts += 1;
      const settledAs = outcome.decision;
      const conflictRow = (): ConflictRecord =>
        prepareConflictRow(ctx, entity, op, item, answer, settledAs, settledAs !== 'manual');
      switch (outcome.decision) {
        case 'server':
          // The record itself is overwritten below with the other server items.
          conflictServerItems.push(outcome.serverData);
          plans.push(() => [conflictRow(), op.prepareDestroyPermanently()]);
          break;
        case 'merge': {
          const { payload, base } = outcome;
          conflictServerItems.push(outcome.adopted);
          plans.push(() => [conflictRow(), ctx.queue.prepareRebase(op, payload, base)]);
          break;
        }
        case 'local': {
          const rebased = outcome.serverVersion;
          const local = record!;
          plans.push(() => [
            conflictRow(),
            ctx.queue.prepareRetry(op, 'CONFLICT: rebased on the server version'),
            local.prepareUpdate((r) => r._setRaw(SYNC_COLUMNS.version, rebased)),
          ]);
          break;
        }
        case 'manual': {
          const message = outcome.message;
          plans.push(() => {
            const row = conflictRow();
            return [row, ctx.queue.prepareAwaitConflict(op, message, row.id)];
          });
          break;
        }
      }
    }
    // Adopted server data is applied like pulled items; a record changed again
    // while the batch was in flight keeps its newer local data.
    const adopt =
      conflictServerItems.length > 0
        ? await planApply(ctx, entity, conflictServerItems, { ignoreOpIds: settledOps })
        : null;
    // A success stamped at or before a stream's position did not come from this item's write.
    let states = rewindTo === null && ownStamps.length === 0 ? [] : await syncStates(ctx, entity);
    for (const at of ownStamps) {
      const passed = states.some((state) => state.lastSyncAt !== null && Date.parse(state.lastSyncAt) >= at);
      if (passed) rewindTo = Math.min(rewindTo ?? at, at);
    }
    // Every stream of the entity (the tenant-wide one, or one per scope) is rewound alike.
    if (rewindTo === null) states = [];
    const prepared: AnyModel[] = [];
    for (const plan of plans) prepared.push(...plan());
    if (adopt) prepared.push(...adopt.prepare());
    for (const state of states) {
      // A stream whose position carries a scope or a read-rule fingerprint is reloaded and reconciled instead.
      if (state.cursor?.startsWith(STREAM_CURSOR_PREFIX)) {
        prepared.push(prepareSyncState(ctx, entity, state, null, null, state.scope, true));
        continue;
      }
      const since = state.lastSyncAt ? Date.parse(state.lastSyncAt) : null;
      if (rewindTo !== null && (since === null || Number.isNaN(since) || rewindTo - 1 < since || state.cursor)) {
        const back = since === null || Number.isNaN(since) ? rewindTo - 1 : Math.min(since, rewindTo - 1);
        prepared.push(prepareSyncState(ctx, entity, state, new Date(back).toISOString(), null, state.scope));
      }
    }
    await ctx.database.batch(...prepared);
  }, 'trackhub:settlePush');
}
