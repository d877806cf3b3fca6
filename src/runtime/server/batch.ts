/**
 * Batched syncPush: the look-ups of one transaction that applies many pushed
 * items of one entity for one principal.
 *
 * `SyncService.push` applies a chunk of items in ONE transaction (instead of one
 * transaction per item). Before the items are decided, the records they target
 * are read with one `findMany` (id IN ... OR clientId IN ..., tenant-scoped);
 * `findById` / `findByClientId` / `resolveRelations` then answer from this cache
 * when they are given the batch's store (`batchedStore(tx, lookups)`, store.ts), and `guardedUpdate` skips its
 * re-read. Every per-item rule stays in the sync service unchanged; the cache
 * only answers what the database would have answered inside the transaction:
 *
 * - a key asked for in the prefetch and not found is known absent (for this tenant);
 * - a row inserted in the batch is added; a row updated in the batch is dropped
 *   (the next look-up reads the database again);
 * - relation look-ups remember only hits (a referenced record never disappears
 *   inside the transaction: the runtime soft-deletes).
 *
 * Anything unexpected (a lost optimistic race, a unique violation, a database
 * error) makes the service roll the whole chunk back and apply it item by item,
 * as before; see `SyncService.push`.
 */
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { ServerId } from './ids.js';
import { delegateOf, type Row } from './prisma.js';

/** A relation target: its id, and whether it is a tombstone. */
export interface RelationTarget {
  id: ServerId;
  deleted: boolean;
}

/** Marks a clientId whose insert is deferred. */
const PENDING: Row = Object.freeze({});


type Key = 'id' | 'clientId';

export class BatchLookups {
  /** `${delegate}|${key}|${value}` -> row, or null when known absent. */
  private readonly rows = new Map<string, Row | null>();
  /** `${delegate}|${value}` -> id of a relation target known to exist in the tenant. */
  private readonly relations = new Map<string, RelationTarget>();

  private constructor(private readonly tenantKey: string) {}

  /**
   * Reads the records of
   * `d` the given items name by id or clientId, in one query per 500 keys.
   */
  static async prefetch(
    tx: object,
    d: EntityDescriptor,
    principal: Principal,
    scope: Row,
    keys: { ids: ServerId[]; clientIds: string[] },
  ): Promise<BatchLookups> {
    const lookups = new BatchLookups(principal.tenantId);
    const delegate = delegateOf(tx, d.delegate);
    const ids = [...new Set(keys.ids)];
    const clientIds = [...new Set(keys.clientIds)];
    const STEP = 500;
    for (let i = 0; i < Math.max(ids.length, clientIds.length); i += STEP) {
      const idPart = ids.slice(i, i + STEP);
      const clientIdPart = clientIds.slice(i, i + STEP);
      const or: Row[] = [];
      if (idPart.length) or.push({ id: { in: idPart } });
      if (clientIdPart.length) or.push({ clientId: { in: clientIdPart } });
      const found = await delegate.findMany({ where: { AND: [scope, { OR: or }] } });
      for (const value of idPart) lookups.rows.set(lookups.key(d, 'id', value), null);
      for (const value of clientIdPart) lookups.rows.set(lookups.key(d, 'clientId', value), null);
      for (const row of found) lookups.remember(d, row);
    }
    return lookups;
  }

  private key(d: EntityDescriptor, key: Key, value: ServerId): string {
    return `${d.delegate}|${key}|${value}`;
  }

  /**
   * The cached answer (row or null), or undefined when the database must be
   * asked; flushes deferred inserts first when the answer is one of them or the
   * database must be asked.
   */
  async get(client: unknown, d: EntityDescriptor, principal: Principal, key: Key, value: ServerId): Promise<Row | null | undefined> {
    let hit = principal.tenantId === this.tenantKey ? this.rows.get(this.key(d, key, value)) : undefined;
    if (hit === PENDING || (hit === undefined && this.pending.length)) {
      await this.flush(client);
      hit = principal.tenantId === this.tenantKey ? this.rows.get(this.key(d, key, value)) : undefined;
    }
    return hit;
  }

  /** A row read or inserted in the transaction. */
  remember(d: EntityDescriptor, row: Row): void {
    if (typeof row.id === 'string' || typeof row.id === 'number') this.rows.set(this.key(d, 'id', row.id), row);
    if (typeof row.clientId === 'string') this.rows.set(this.key(d, 'clientId', row.clientId), row);
  }

  /** A row written in the transaction: its cached copy is stale. */
  forget(d: EntityDescriptor, row: Row): void {
    if (typeof row.id === 'string' || typeof row.id === 'number') this.rows.delete(this.key(d, 'id', row.id));
    if (typeof row.clientId === 'string') this.rows.delete(this.key(d, 'clientId', row.clientId));
  }

  /** Rows of `d` written in bulk (a cascade): every cached copy and relation target of it is stale. */
  invalidate(d: EntityDescriptor): void {
    const prefix = `${d.delegate}|`;
    for (const key of [...this.rows.keys()]) if (key.startsWith(prefix) && this.rows.get(key) !== PENDING) this.rows.delete(key);
    for (const key of [...this.relations.keys()]) if (key.startsWith(prefix)) this.relations.delete(key);
  }

  // ------------------------------------------------------------ deferred creates

  /** Creates not yet written: one `createManyAndReturn` when something needs the database. */
  private pending: Array<{ d: EntityDescriptor; data: Row; row: Row }> = [];

  /** Can inserts of `d` be deferred (the client has `createManyAndReturn`: PostgreSQL, SQLite)? */
  canDefer(client: unknown, d: EntityDescriptor): boolean {
    const delegate = (client as Record<string, unknown>)[d.delegate] as { createManyAndReturn?: unknown } | undefined;
    return typeof delegate?.createManyAndReturn === 'function';
  }

  /**
   * Queues an insert and returns its row, completed in place (id and every
   * database default) by the next `flush`. Until then the row is known only by
   * its clientId, and a look-up of it flushes first.
   */
  defer(d: EntityDescriptor, data: Row): Row {
    const row: Row = { ...data };
    this.pending.push({ d, data, row });
    this.deferred = row;
    if (typeof data.clientId === 'string') this.rows.set(this.key(d, 'clientId', data.clientId), PENDING);
    return row;
  }

  hasPendingFor(delegate: string): boolean {
    return this.pending.some((p) => p.d.delegate === delegate);
  }

  /** The row of the last deferred insert (to tell which item deferred one). */
  get lastDeferred(): Row | undefined {
    return this.deferred;
  }
  private deferred: Row | undefined;

  /** Writes the deferred inserts (in order, one query per entity) and completes their rows. */
  async flush(client: unknown): Promise<void> {
    while (this.pending.length) {
      const d = this.pending[0]!.d;
      const group = this.pending.filter((p) => p.d === d);
      this.pending = this.pending.filter((p) => p.d !== d);
      const delegate = (client as Record<string, { createManyAndReturn(args: { data: Row[] }): Promise<Row[]> }>)[d.delegate]!;
      const created = await delegate.createManyAndReturn({ data: group.map((p) => p.data) });
      const byClientId = new Map(created.map((row) => [row.clientId as string, row]));
      for (const p of group) {
        const row = byClientId.get(p.data.clientId as string);
        if (!row) throw new Error(`createManyAndReturn did not return the row of clientId ${String(p.data.clientId)}`);
        Object.assign(p.row, row);
        this.remember(d, row);
      }
    }
  }

  relationTarget(delegate: string, principal: Principal, value: string): RelationTarget | undefined {
    if (principal.tenantId !== this.tenantKey) return undefined;
    return this.relations.get(`${delegate}|${value}`);
  }

  rememberRelation(delegate: string, value: string, target: RelationTarget): void {
    this.relations.set(`${delegate}|${value}`, target);
  }
}
