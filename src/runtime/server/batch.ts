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
import { insertLayout, writeBulkInserts } from './bulk-insert.js';
import { bulkWritable, writeBulkUpdates, type BulkPlan, type PendingUpdate } from './bulk-update.js';
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

  private constructor(
    private readonly tenantKey: string,
    /** How this chunk's updates are written in bulk, or null: one guarded `updateMany` each. */
    private readonly bulk: BulkPlan | null,
  ) {}

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
    bulk: BulkPlan | null = null,
  ): Promise<BatchLookups> {
    const lookups = new BatchLookups(principal.tenantId, bulk);
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

  // ------------------------------------------------------------ deferred writes

  /**
   * Writes not yet sent, in item order: creates (bulk INSERTs or one `createManyAndReturn`
   * per run of one entity's creates, see insertRun) and guarded updates (one bulk statement per run and set of
   * fields, bulk-update.ts). Sent when something needs the database, and at the end.
   */
  private pending: Array<{ op: 'insert'; d: EntityDescriptor; data: Row; row: Row } | { op: 'update'; update: PendingUpdate }> = [];

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
    this.pending.push({ op: 'insert', d, data, row });
    this.deferred = row;
    if (typeof data.clientId === 'string') this.rows.set(this.key(d, 'clientId', data.clientId), PENDING);
    return row;
  }

  /** Can this update of `d` wait for a bulk statement? */
  canDeferUpdate(d: EntityDescriptor, data: Row): boolean {
    return this.bulk !== null && bulkWritable(d, data) && !this.bulk.keepSingle.some((f) => f in data);
  }

  /**
   * Queues a guarded update of `row` (read in this transaction at its version). The
   * record's cached copy is dropped: a later look-up of it flushes and reads the database.
   * If the guard does not hold when it is written, the flush throws and the chunk is redone.
   */
  deferUpdate(d: EntityDescriptor, principal: Principal, row: Row, data: Row, stamp: Date): void {
    this.pending.push({ op: 'update', update: { d, principal, id: row.id as ServerId, version: row.version as number, data, stamp } });
    this.forget(d, row);
  }

  hasPendingFor(delegate: string): boolean {
    return this.pending.some((p) => (p.op === 'insert' ? p.d : p.update.d).delegate === delegate);
  }

  /** The row of the last deferred insert (to tell which item deferred one). */
  get lastDeferred(): Row | undefined {
    return this.deferred;
  }
  private deferred: Row | undefined;

  /** Writes the deferred writes in order (a run of one kind and entity at a time) and completes the inserted rows. */
  async flush(client: unknown): Promise<void> {
    while (this.pending.length) {
      const first = this.pending[0]!;
      const d = first.op === 'insert' ? first.d : first.update.d;
      let end = 1;
      while (end < this.pending.length) {
        const p = this.pending[end]!;
        if (p.op !== first.op || (p.op === 'insert' ? p.d : p.update.d) !== d) break;
        end++;
      }
      const run = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      if (first.op === 'insert') await this.insertRun(client, d, run as Array<Extract<(typeof run)[number], { op: 'insert' }>>);
      else await this.updateRun(client, run.map((p) => (p as Extract<(typeof run)[number], { op: 'update' }>).update));
    }
  }

  /** One run's creates: bulk INSERTs where they write what Prisma would (bulk-insert.ts), else one `createManyAndReturn`. */
  private async insertRun(client: unknown, d: EntityDescriptor, group: Array<{ data: Row; row: Row }>): Promise<void> {
    const data = group.map((p) => p.data);
    const fields = this.bulk ? insertLayout(d, data) : null;
    let created: Row[];
    if (fields) created = await writeBulkInserts(client, this.bulk!.dialect, d, fields, data);
    else {
      const delegate = (client as Record<string, { createManyAndReturn(args: { data: Row[] }): Promise<Row[]> }>)[d.delegate]!;
      created = await delegate.createManyAndReturn({ data });
    }
    const byClientId = new Map(created.map((row) => [row.clientId as string, row]));
    for (const p of group) {
      const row = byClientId.get(p.data.clientId as string);
      if (!row) throw new Error(`the insert did not return the row of clientId ${String(p.data.clientId)}`);
      Object.assign(p.row, row);
      this.remember(d, row);
    }
  }

  /** One bulk statement per set of written fields (the runs's updates touch distinct rows: a repeat look-up flushes first). */
  private async updateRun(client: unknown, updates: PendingUpdate[]): Promise<void> {
    const bySet = new Map<string, PendingUpdate[]>();
    for (const u of updates) {
      const key = Object.keys(u.data).join('\0');
      const list = bySet.get(key);
      if (list) list.push(u);
      else bySet.set(key, [u]);
    }
    for (const group of bySet.values()) await writeBulkUpdates(client, this.bulk!.dialect, group);
  }

  relationTarget(delegate: string, principal: Principal, value: string): RelationTarget | undefined {
    if (principal.tenantId !== this.tenantKey) return undefined;
    return this.relations.get(`${delegate}|${value}`);
  }

  rememberRelation(delegate: string, value: string, target: RelationTarget): void {
    this.relations.set(`${delegate}|${value}`, target);
  }
}
