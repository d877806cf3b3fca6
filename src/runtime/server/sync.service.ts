/**
 * syncPull / syncPush over any registered entity.
 */
import type { Principal } from './auth.js';
import {
  isDeletedRow,
  missingRequired,
  parseItem,
  serializeRecord,
  type ParsedItem,
  type WireRecord,
} from './codec.js';
import { pullPage, type SyncPullArgs, type SyncPullResult } from './pull.js';
import { PullReadAhead, type ReadAheadOptions } from './read-ahead.js';
import type { EntityDescriptor } from './descriptor.js';
import { ItemError, SyncErrorCode, TrackhubError } from './errors.js';
import { BatchLookups } from './batch.js';
import { bulkDialectOf, type BulkDialect, type BulkPlan } from './bulk-update.js';
import { afterPull, validateItem } from './hooks.js';
import { delegateOf, isUniqueViolation, type PrismaLike, type Row } from './prisma.js';
import type { EntityRegistry } from './registry.js';
import {
  batchedStore,
  deletionData,
  findByClientId,
  findById,
  guardedUpdate,
  insertRecord,
  plainStore,
  resolveRelations,
  tenantScope,
  type RecordStore,
} from './store.js';
import { constraintError } from './constraints.js';
import type { SyncClock } from './sync-clock.js';
import { applyCascade, ChildIndex, DeleteRestrictedError, hasDependents, planCascade, scopesToLock, type CascadeContext } from './cascade.js';
import { decideWrite } from './write-decision.js';
import { bindAccess, readScope, writeAccessEntities } from './access.js';
import { applyMoves } from './scopes.js';
import { wireId, type ServerId } from './ids.js';

export type { SyncPullArgs, SyncPullResult } from './pull.js';

export interface ConflictPayload {
  serverData: WireRecord | null;
  clientData: unknown;
  serverVersion: number | null;
  resolutionSuggested: WireRecord | null;
}

export interface SyncResult {
  clientId: string | null;
  id: string | null;
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  conflict: ConflictPayload | null;
  version: number | null;
  updatedAt: Date | null;
}

export interface SyncLogger {
  error(message: string, ...rest: unknown[]): void;
}

export interface SyncServiceOptions {
  prisma: PrismaLike;
  registry: EntityRegistry;
  clock: SyncClock;
  /** Largest syncPush batch (default 1000). */
  maxBatchSize: number;
  /** Largest syncPull limit (default 1000). */
  maxPullLimit: number;
  /** How long a caught-up stream answers from the sync clock alone (pull.ts, `PullContext.recheckMs`). */
  recheckMs: number;
  /** The server's wall clock, epoch ms. */
  now: () => number;
  logger: SyncLogger;
  /** Pull read-ahead (read-ahead.ts), or false. */
  readAhead: ReadAheadOptions | false;
}

export class SyncService {
  /** How a batched push writes its updates in bulk on this client (bulk-update.ts), or null. */
  private readonly bulk: BulkDialect | null;

  /** Next pages of streams being pulled, read before they are asked for (read-ahead.ts), or null. */
  private readonly readAhead: PullReadAhead | null;

  constructor(private readonly options: SyncServiceOptions) {
    this.bulk = bulkDialectOf(options.prisma);
    this.readAhead = options.readAhead ? new PullReadAhead(options.readAhead) : null;
  }

  /**
   * How a chunk of `d` writes its updates in bulk, or null when one by one: an entity
   * without `storage`, or one with children of its own kind (a delete's cascade plans
   * over rows of the same table). An update that changes a key on a scope path stays
   * one by one too (`keepSingle`): scopes.ts reads rows around it right after it.
   */
  private bulkFor(d: EntityDescriptor): BulkPlan | null {
    if (!this.bulk || !d.storage) return null;
    const registry = this.options.registry;
    if (registry.dependentsOf(d.name).some((x) => x.child.name === d.name)) return null;
    return { dialect: this.bulk, keepSingle: [...registry.moversOf(d.name).keys()] };
  }

  // ---------------------------------------------------------------- pull

  /** One page of an entity's stream (pull.ts); the one after it is read ahead (read-ahead.ts). */
  async pull(principal: Principal, entity: string, args: SyncPullArgs = {}): Promise<SyncPullResult> {
    const ahead = this.readAhead;
    if (!ahead) return pullPage(this.options, principal, entity, args);
    const limit = args.limit ?? this.options.maxPullLimit;
    const kept = ahead.take(principal, entity, args, limit);
    // A page read ahead that failed is read again: its error is this request's only if it fails again.
    const page = kept ? await kept.catch(() => pullPage(this.options, principal, entity, args)) : await pullPage(this.options, principal, entity, args);
    ahead.after(principal, entity, args, limit, page, (next) => pullPage(this.options, principal, entity, next));
    return page;
  }

  // ---------------------------------------------------------------- push

  /**
   * Applies a batch in chunks, each chunk in one transaction (falling back to one
   * transaction per item when the chunk hits anything but a per-item error). One
   * bad item gets a per-item error and never fails the batch; an oversize batch is
   * refused as a whole before anything is written.
   */
  async push(principal: Principal, entity: string, items: readonly unknown[]): Promise<SyncResult[]> {
    const d = this.options.registry.get(entity);
    if (!Array.isArray(items)) throw new TrackhubError(SyncErrorCode.VALIDATION_FAILED, 'items must be a list');
    if (items.length > this.options.maxBatchSize) {
      throw new TrackhubError(
        SyncErrorCode.BATCH_TOO_LARGE,
        `Batch of ${items.length} items exceeds the maximum of ${this.options.maxBatchSize}; split it. Nothing was written.`,
        { maxBatchSize: this.options.maxBatchSize },
      );
    }
    // Read rules (access.ts): records and parents the caller may not read are not found.
    principal = await bindAccess(this.options.registry, this.options.prisma, principal, writeAccessEntities(this.options.registry, d));
    const results: SyncResult[] = [];
    for (let start = 0; start < items.length; start += PUSH_CHUNK) {
      const chunk = items.slice(start, start + PUSH_CHUNK);
      const done = chunk.length > 1 ? await this.pushChunk(principal, d, chunk) : null;
      if (done) results.push(...done);
      else for (const raw of chunk) results.push(await this.pushItem(principal, d, raw));
    }
    return results;
  }

  /**
   * Applies a chunk of items in one transaction with batched look-ups (see batch.ts):
   * the same per-item decisions as `pushItem`, each item with its own `updatedAt`
   * stamp, all under one hold of the scope's clock. Returns null (after rolling everything
   * back) when anything but a per-item error happens; the caller then applies the
   * chunk item by item.
   */
  private async pushChunk(principal: Principal, d: EntityDescriptor, chunk: readonly unknown[]): Promise<SyncResult[] | null> {
    const parsed: Array<{ raw: unknown; item: ParsedItem } | { raw: unknown; error: ItemError }> = [];
    for (const raw of chunk) {
      try {
        parsed.push({ raw, item: parseItem(d, raw) });
      } catch (error) {
        if (!(error instanceof ItemError)) return null;
        parsed.push({ raw, error });
      }
    }
    const keys = { ids: [] as ServerId[], clientIds: [] as string[] };
    for (const p of parsed) {
      if (!('item' in p)) continue;
      if (p.item.id !== undefined) keys.ids.push(p.item.id);
      if (p.item.clientId) keys.clientIds.push(p.item.clientId);
    }
    const deletes = parsed.some((p) => 'item' in p && p.item.deleted);
    try {
      return await this.options.clock.write(d, principal, parsed.length, async (tx, firstStamp, more) => {
        const lookups = await BatchLookups.prefetch(tx, d, principal, readScope(d, principal), keys, this.bulkFor(d));
        const store = batchedStore(tx, lookups);
        // The children of the records this batch deletes, read once (cascade.ts).
        const deletedIds = parsed.flatMap((p) => ('item' in p && p.item.deleted && p.item.id !== undefined ? [p.item.id] : []));
        const cascade: CascadeContext = {
          stamps: more,
          ...(deletedIds.length && hasDependents(this.options.registry, d)
            ? { children: await ChildIndex.prefetch(tx, this.options.registry, principal, d, deletedIds) }
            : {}),
        };
        const out: SyncResult[] = [];
        const deferred: Array<[number, Row]> = [];
        for (const [i, p] of parsed.entries()) {
          const { echoClientId, echoId } = echoOf(p.raw);
          if ('error' in p) {
            out.push(itemFailure(d, p.raw, p.error));
            continue;
          }
          try {
            // Item i of the chunk has the i-th of the stamps the clock reserved.
            const before = lookups.lastDeferred;
            out.push(await this.applyItem(store, principal, d, p.item, p.raw, new Date(firstStamp + i), cascade));
            if (lookups.lastDeferred !== before) deferred.push([out.length - 1, lookups.lastDeferred!]);
          } catch (error) {
            if (!(error instanceof ItemError)) throw new BatchAborted(error);
            out.push(itemFailure(d, p.raw, error));
          }
        }
        try {
          await lookups.flush(tx);
        } catch (error) {
          throw new BatchAborted(error);
        }
        // Deferred creates: their rows are complete now (id and defaults).
        for (const [k, row] of deferred) out[k] = success(row);
        return out;
      }, scopesToLock(this.options.registry, d, deletes));
    } catch (error) {
      if (!(error instanceof BatchAborted)) this.options.logger.error(`syncPush ${d.name}: batch failed, applying item by item`, error);
      return null;
    }
  }

  private async pushItem(principal: Principal, d: EntityDescriptor, raw: unknown): Promise<SyncResult> {
    const { echoClientId, echoId } = echoOf(raw);
    let data: Row = {};
    try {
      const item = parseItem(d, raw);
      data = { ...item.readonlyData, ...item.data };
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.options.clock.write(
            d,
            principal,
            1,
            (tx, stamp, more) => this.applyItem(plainStore(tx), principal, d, item, raw, new Date(stamp), { stamps: more }),
            scopesToLock(this.options.registry, d, item.deleted),
          );
        } catch (error) {
          // A concurrent create with the same clientId won the race: the retry replays it.
          if (attempt === 0 && isUniqueViolation(error) && item.version === undefined) continue;
          // Someone wrote the record between our read and our guarded write: decide again against
          // the fresh copy (the strategy may still apply the item); give up after a few rounds.
          if (error instanceof StaleWriteError) {
            if (attempt < MAX_STALE_RETRIES) continue;
            if (!error.current) throw new ItemError(SyncErrorCode.NOT_FOUND, `no ${d.name} with id "${error.id}"`);
            return conflict(d, error.current, raw, 'the record kept changing while the item was applied', null);
          }
          throw error;
        }
      }
    } catch (error) {
      if (error instanceof ItemError) return itemFailure(d, raw, error);
      const constraint = await constraintError(this.options.prisma, d, principal, error, data);
      if (constraint) return failure(echoClientId, echoId, constraint.code, constraint.message);
      this.options.logger.error(`syncPush ${d.name}: item failed`, error);
      return failure(echoClientId, echoId, SyncErrorCode.INTERNAL, 'Internal error while applying the item');
    }
  }

  private async applyItem(
    store: RecordStore,
    principal: Principal,
    d: EntityDescriptor,
    item: ParsedItem,
    raw: unknown,
    stamp: Date,
    cascade: CascadeContext,
  ): Promise<SyncResult> {
    if (item.version === undefined) return this.applyCreate(store, principal, d, item, stamp, cascade);

    let existing: Row | null;
    if (item.id !== undefined) existing = await findById(store, d, principal, item.id);
    else if (item.clientId) existing = await findByClientId(store, d, principal, item.clientId);
    else throw new ItemError(SyncErrorCode.VALIDATION_FAILED, 'an update or delete needs id or clientId');
    if (!existing) {
      throw new ItemError(SyncErrorCode.NOT_FOUND, `no ${d.name} with ${item.id !== undefined ? `id "${item.id}"` : `clientId "${item.clientId}"`}`);
    }

    const decision = decideWrite(d, item, existing);
    switch (decision.kind) {
      case 'noop':
        return success(existing);
      case 'write':
        return this.write(store, principal, d, item, existing, stamp, decision.data, cascade);
      case 'conflict':
        return conflict(d, existing, raw, decision.why, decision.suggested);
    }
  }

  private async applyCreate(
    store: RecordStore,
    principal: Principal,
    d: EntityDescriptor,
    item: ParsedItem,
    stamp: Date,
    cascade: CascadeContext,
  ): Promise<SyncResult> {
    if (!item.clientId) throw new ItemError(SyncErrorCode.VALIDATION_FAILED, 'a create (no version) needs a clientId');
    const existing = await findByClientId(store, d, principal, item.clientId);
    if (item.deleted) {
      // Created and deleted on the device before it synced: delete the server copy if the create got through.
      if (!existing) return { ...success(null), clientId: item.clientId };
      if (isDeletedRow(d, existing)) return success(existing);
      const plan = await planCascade(store, this.options.registry, principal, d, [existing.id as ServerId], existing, cascade.children);
      const row = await guardedUpdate(store, d, principal, existing, deletionData(d, stamp), stamp);
      if (!row) throw new StaleWriteError(existing.id as ServerId, await findById(store, d, principal, existing.id as ServerId));
      await applyCascade(store, principal, plan, cascade);
      return success(row);
    }
    if (existing) return success(existing); // replay: idempotent on (tenant, clientId)
    const missing = missingRequired(d, item);
    if (missing.length) throw new ItemError(SyncErrorCode.VALIDATION_FAILED, `missing required field(s): ${missing.join(', ')}`);
    const data: Row = { ...item.readonlyData, ...item.data };
    await validateItem(d.hooks, data, { principal, entity: d.name, operation: 'create', existing: null });
    // Under a parent deleted meanwhile (onDelete: Cascade) it is stored deleted: devices pull the tombstone.
    if ((await resolveRelations(store, d, principal, data, { storeDeleted: true })) === 'deleted') Object.assign(data, deletionData(d, stamp));
    return success(await insertRecord(store, d, principal, stamp, item.clientId, data));
  }

  private async write(
    store: RecordStore,
    principal: Principal,
    d: EntityDescriptor,
    item: ParsedItem,
    existing: Row,
    stamp: Date,
    data: Row,
    cascade: CascadeContext,
  ): Promise<SyncResult> {
    const changes: Row = item.deleted ? deletionData(d, stamp) : { ...data };
    await validateItem(d.hooks, item.deleted ? {} : changes, {
      principal,
      entity: d.name,
      operation: item.deleted ? 'delete' : 'update',
      existing: serializeRecord(d, existing),
    });
    // Moved under a parent deleted meanwhile (onDelete: Cascade): the update deletes it.
    const deletes = item.deleted || (await resolveRelations(store, d, principal, changes, { storeDeleted: true })) === 'deleted';
    if (deletes) Object.assign(changes, deletionData(d, stamp));
    const plan = deletes ? await planCascade(store, this.options.registry, principal, d, [existing.id as ServerId], existing, cascade.children) : null;
    const row = await guardedUpdate(store, d, principal, existing, changes, stamp);
    if (row && plan) await applyCascade(store, principal, plan, cascade);
    // A changed key on a scope path moves rows between scopes (scopes.ts).
    if (row && !deletes) await applyMoves(store.client, this.options.registry, principal, d, existing, changes, stamp, cascade.stamps);
    if (row) return success(row);
    // Optimistic concurrency: the version moved since we read it (count 0). Roll back and retry.
    throw new StaleWriteError(existing.id as ServerId, await findById(store, d, principal, existing.id as ServerId));
  }
}

const MAX_STALE_RETRIES = 2;
/** Items applied per batch transaction (see pushChunk). */
const PUSH_CHUNK = 250;

/** Not a per-item outcome: the batch transaction is rolled back and the chunk redone item by item. */
class BatchAborted extends Error {
  constructor(readonly reason: unknown) {
    super('batch aborted');
  }
}

/** The clientId and id a pushed item carries, echoed in its result whatever happens to it. */
function echoOf(raw: unknown): { echoClientId: string | null; echoId: string | null } {
  const echoClientId = typeof (raw as { clientId?: unknown } | null)?.clientId === 'string' ? ((raw as { clientId: string }).clientId) : null;
  const rawId = (raw as { id?: unknown } | null)?.id;
  const echoId = typeof rawId === 'string' || typeof rawId === 'number' ? wireId(rawId) : null;
  return { echoClientId, echoId };
}

/** The guarded `updateMany ... where { id, version }` matched nothing: someone else wrote first. */
class StaleWriteError extends Error {
  constructor(
    readonly id: ServerId,
    readonly current: Row | null,
  ) {
    super(`stale write on ${id}`);
  }
}

/** Fields an update applies: synced + media (readonly ones are ignored on update). */
function success(row: Row | null): SyncResult {
  return {
    clientId: (row?.clientId as string | null | undefined) ?? null,
    id: wireId(row?.id),
    success: true,
    errorCode: null,
    errorMessage: null,
    conflict: null,
    version: (row?.version as number | undefined) ?? null,
    updatedAt: (row?.updatedAt as Date | undefined) ?? null,
  };
}

/** The answer to an item refused with a per-item error; a refused delete carries the server's copy, which a device restores. */
function itemFailure(d: EntityDescriptor, raw: unknown, error: ItemError): SyncResult {
  const { echoClientId, echoId } = echoOf(raw);
  const result = failure(echoClientId, echoId, error.code, error.message);
  if (!(error instanceof DeleteRestrictedError)) return result;
  const serverData = serializeRecord(d, error.current);
  return {
    ...result,
    conflict: { serverData, clientData: raw, serverVersion: error.current.version as number, resolutionSuggested: serverData },
    version: error.current.version as number,
    updatedAt: error.current.updatedAt as Date,
  };
}

function failure(clientId: string | null, id: string | null, code: string, message: string): SyncResult {
  return { clientId, id, success: false, errorCode: code, errorMessage: message, conflict: null, version: null, updatedAt: null };
}

function conflict(d: EntityDescriptor, server: Row, raw: unknown, why: string, suggested: WireRecord | null): SyncResult {
  const serverData = serializeRecord(d, server);
  return {
    clientId: (server.clientId as string | null) ?? null,
    id: wireId(server.id),
    success: false,
    errorCode: SyncErrorCode.CONFLICT,
    errorMessage: `Conflict on ${d.name} ${String(server.id)}: ${why}`,
    conflict: {
      serverData,
      clientData: raw,
      serverVersion: server.version as number,
      resolutionSuggested: suggested ?? serverData,
    },
    version: server.version as number,
    updatedAt: server.updatedAt as Date,
  };
}
