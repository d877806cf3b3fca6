/**
 * `OfflineFirstService`: the typed per-entity API the generated services
 * extend. Local writes change the record and queue the operation in one
 * WatermelonDB batch (atomic); reads return plain record objects
 * (`{ id, serverId, clientId, version, serverUpdatedAt, ...fields }`, DateTime
 * as Date, Json parsed).
 */
import { Q } from '@nozbe/watermelondb';
import type { Collection, Database, Model, Query } from '@nozbe/watermelondb';
import type { Clause } from '@nozbe/watermelondb/QueryDescription/index.js';
import { map } from 'rxjs';
import type { Observable } from 'rxjs';

import { inputTypeNames, mutationNames } from '../../contract/operations.js';
import type { ClientContext } from './context.js';
import { recordFromRaw, wireToRaw } from './codec.js';
import type { RawRow, WireItem } from './codec.js';
import type { EntityDescriptor, SyncedRecord } from './descriptors.js';
import { SYNC_COLUMNS } from './descriptors.js';
import type { ConflictInfo, ConflictResolution, SyncReport } from './engine.js';
import { newId } from './ids.js';
import { createRaw, createValues, deleteManyAndEnqueue, liveModel, updateAndEnqueue, updateManyAndEnqueue, updateValues, writeValues } from './local-writes.js';

export { DeleteRestrictedError } from './local-delete.js';

export { RecordNotFoundError, ValidationError } from './local-writes.js';

function rawOf(record: Model): RawRow {
  return record._raw as unknown as RawRow;
}

/** The online API documents of one entity (from GraphQL Code Generator's operations, as text). */
export interface OnlineDocuments {
  /** `query($id: ID!) { <entity>(id: $id) { ... } }` */
  get: string;
  /** `query($cursor: String, $limit: Int) { <entities>(cursor:, limit:) { items { ... } nextCursor } }` */
  list: string;
  /** `mutation($input: <Entity>CreateInput!) { create<Entity>(input: $input) { ... } }` */
  create: string;
}

export class OfflineFirstService<
  TRecord extends SyncedRecord,
  TCreate extends object,
  TUpdate extends object,
  TModel extends Model = Model,
> {
  constructor(
    readonly client: ClientContext,
    readonly descriptor: EntityDescriptor,
    /** The entity's typed online documents as text (generated `operationSources`); built from the descriptor without them. */
    readonly online: OnlineDocuments | null = null,
  ) {}

  get collection(): Collection<TModel> {
    return this.database.get<TModel>(this.descriptor.table);
  }

  /** The tenant database; refuses a client that was closed or signed out. */
  private get database(): Database {
    this.client.assertOpen();
    return this.client.database;
  }

  private get columns(): string[] {
    return [
      ...this.descriptor.fields.map((f) => f.column),
      SYNC_COLUMNS.serverId,
      SYNC_COLUMNS.version,
      SYNC_COLUMNS.serverUpdatedAt,
      SYNC_COLUMNS.deletedAt,
    ];
  }

  /** Plain record object for a model instance of this entity. */
  toRecord(record: Model): TRecord {
    return recordFromRaw<TRecord>(this.descriptor, rawOf(record));
  }

  /** Wire-shaped values of a create input (provided fields + literal defaults). */
  private createValues(input: TCreate): Record<string, unknown> {
    return createValues(this.descriptor, input as Record<string, unknown>);
  }

  private writeValues(record: Model, values: Record<string, unknown>): void {
    writeValues(this.descriptor, record, values);
  }

  // ---------------------------------------------------------------- local writes

  /** Creates the record on the device at once (UUID v7 id) and queues the insert. */
  async create(input: TCreate): Promise<TRecord> {
    return (await this.createRecords([input], 'create'))[0]!;
  }

  /**
   * Creates many records in one writer and one database batch (atomic), each with
   * its queued insert: the queue ends as after the same `create` calls one by one.
   */
  createMany(inputs: TCreate[]): Promise<TRecord[]> {
    return this.createRecords(inputs, 'createMany');
  }

  private async createRecords(inputs: TCreate[], label: string): Promise<TRecord[]> {
    const all = inputs.map((input) => ({ id: newId(), values: this.createValues(input) }));
    const db = this.database;
    const queue = this.client.engine.queue;
    const created = await db.write(async () => {
      const now = Date.now();
      const collection = this.collection;
      // Straight from their raw columns (what prepareCreate + writeValues would set, in one pass).
      const records = all.map(({ id, values }) => collection.prepareCreateFromDirtyRaw(createRaw(this.descriptor, id, values)));
      // A fresh id has nothing queued: each insert is appended without looking. Records, then
      // their queue rows: one run per table, which WatermelonDB writes as one statement each.
      const ops = all.map(({ id, values }) => queue.prepareInsert(this.descriptor.name, id, values, now));
      if (records.length) await db.batch([...records, ...ops]);
      return records;
    }, `${this.descriptor.name}.${label}`);
    return created.map((r) => this.toRecord(r));
  }

  /** Changes fields locally and queues the update (merged with a waiting insert/update). */
  async update(id: string, patch: TUpdate): Promise<TRecord> {
    const values = updateValues(this.descriptor, patch as Record<string, unknown>);
    return this.toRecord(await updateAndEnqueue(this.client, this.descriptor, id, values));
  }

  /**
   * Changes many records in one writer and one database batch (atomic: a missing
   * record, or a value that does not fit, writes nothing). The queue and the records
   * end as after the same `update` calls one by one; resolves with the records in order.
   */
  async updateMany(changes: { id: string; patch: TUpdate }[]): Promise<TRecord[]> {
    const wire = changes.map((c) => ({ id: c.id, values: updateValues(this.descriptor, c.patch as Record<string, unknown>) }));
    return (await updateManyAndEnqueue(this.client, this.descriptor, wire)).map((r) => this.toRecord(r));
  }

  /**
   * Deletes locally (a record the server never saw is simply dropped) and queues the delete.
   * The relations pointing here follow their onDelete on the device at once (local-delete.ts):
   * Cascade deletes the children, SetNull clears their reference, Restrict throws
   * DeleteRestrictedError while the device holds a live child.
   */
  async delete(id: string): Promise<void> {
    await deleteManyAndEnqueue(this.client, this.descriptor, [id], 'delete');
  }

  /**
   * Deletes many records in one writer and one database batch (atomic: a missing,
   * already deleted or repeated id, or a Restrict child left, writes nothing); the queue
   * ends as after the same `delete` calls one by one.
   */
  async deleteMany(ids: string[]): Promise<void> {
    await deleteManyAndEnqueue(this.client, this.descriptor, ids);
  }

  /**
   * Undoes the record's local changes that have not reached the server yet,
   * from the snapshot the queue keeps (waiting operations are coalesced, so
   * this is every unsynced change since the last sync):
   * an unsynced create removes the record; an update restores the fields it
   * changed to what the device last had from the server; a delete brings the
   * record back (with an earlier unsynced update still queued, if any).
   * Resolves false when there is nothing to undo: no waiting operation, or it
   * is being sent, waits on a conflict, or may already have reached the server.
   */
  async undo(id: string): Promise<boolean> {
    const db = this.database;
    const queue = this.client.engine.queue;
    return db.write(async () => {
      const ops = await queue.open(this.descriptor.name, [id]);
      const op = ops[ops.length - 1];
      // An operation that may have reached the server (sent before, answer lost) is not undone locally.
      if (!op || op.status === 'sending' || op.conflictId || op.attempts > 0) return false;
      const rows = await this.collection.query(Q.where('id', id)).fetch();
      const record = rows[0];
      if (!record) return false;
      const now = Date.now();
      if (op.operation === 'insert') {
        await db.batch(record.prepareDestroyPermanently(), op.prepareDestroyPermanently());
        return true;
      }
      const base = op.base ?? {};
      const restore = (r: Model): void => {
        for (const field of this.descriptor.fields)
          if (field.name in base) r._setRaw(field.column, wireToRaw(field, base[field.name]));
      };
      if (op.operation === 'update') {
        await db.batch(record.prepareUpdate(restore), op.prepareDestroyPermanently());
        return true;
      }
      // delete: bring the record back; an update folded into the delete is queued again.
      const folded = Object.keys(op.payload).length > 0;
      await db.batch(
        record.prepareUpdate((r) => r._setRaw(SYNC_COLUMNS.deletedAt, null)),
        folded ? queue.prepareReopenAsUpdate(op, now) : op.prepareDestroyPermanently(),
      );
      return true;
    }, `${this.descriptor.name}.undo`);
  }

  // ---------------------------------------------------------------- reads

  private async liveModel(id: string): Promise<TModel> {
    return liveModel<TModel>(this.client, this.descriptor, id);
  }

  /** The WatermelonDB model (for relations and reactive UI), or null when missing or deleted. */
  async findModel(id: string): Promise<TModel | null> {
    const rows = await this.collection.query(Q.where('id', id), Q.where(SYNC_COLUMNS.deletedAt, null)).fetch();
    return rows[0] ?? null;
  }

  /** Finds by server id. */
  async getByServerId(serverId: string): Promise<TRecord | null> {
    const rows = await this.collection
      .query(Q.where(SYNC_COLUMNS.serverId, serverId), Q.where(SYNC_COLUMNS.deletedAt, null))
      .fetch();
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  async get(id: string): Promise<TRecord | null> {
    const model = await this.findModel(id);
    return model ? this.toRecord(model) : null;
  }

  /** A query over live (not deleted) records; extra WatermelonDB clauses filter and sort. */
  query(...clauses: Clause[]): Query<TModel> {
    return this.collection.query(Q.where(SYNC_COLUMNS.deletedAt, null), ...clauses);
  }

  async list(...clauses: Clause[]): Promise<TRecord[]> {
    const rows = await this.query(...clauses).fetch();
    return rows.map((r) => this.toRecord(r));
  }

  count(...clauses: Clause[]): Promise<number> {
    return this.query(...clauses).fetchCount();
  }

  /** Emits the list now and whenever a matching record is added, removed or changed. */
  observe(...clauses: Clause[]): Observable<TRecord[]> {
    return this.query(...clauses)
      .observeWithColumns(this.columns)
      .pipe(map((rows: TModel[]) => rows.map((r) => this.toRecord(r))));
  }

  /** Emits the record now and on every change; null when missing or deleted. */
  observeOne(id: string): Observable<TRecord | null> {
    return this.query(Q.where('id', id))
      .observeWithColumns(this.columns)
      .pipe(map((rows: TModel[]) => (rows[0] ? this.toRecord(rows[0]) : null)));
  }

  // ---------------------------------------------------------------- sync

  syncPush(): Promise<SyncReport> {
    return this.client.syncPush([this.descriptor.name]);
  }

  syncPull(): Promise<SyncReport> {
    return this.client.syncPull([this.descriptor.name]);
  }

  /** Synchronises every entity (a parent created offline must reach the server before its children). */
  syncAll(): Promise<SyncReport> {
    return this.client.syncAll();
  }

  /** Reloads this entity from the server; waiting local changes are kept unless `discardPending`. */
  forceSyncFromServer(options: { discardPending?: boolean } = {}): Promise<SyncReport> {
    return this.client.forceSyncFromServer([this.descriptor.name], options);
  }

  forcePushLocal(): Promise<SyncReport> {
    return this.client.forcePushLocal([this.descriptor.name]);
  }

  pendingCount(): Promise<number> {
    return this.client.queueSize(this.descriptor.name);
  }

  listConflicts(filter: { resolved?: boolean } = {}): Promise<ConflictInfo[]> {
    return this.client.listConflicts({ ...filter, entity: this.descriptor.name });
  }

  /** `server` adopts the server's data, `local` pushes the device's change again, `{ data }` pushes a merged result. */
  resolveConflict(conflictId: string, resolution: 'server' | 'local' | { data: Partial<TUpdate> }): Promise<void> {
    const wire: ConflictResolution =
      resolution === 'server' || resolution === 'local'
        ? resolution
        : { data: updateValues(this.descriptor, resolution.data as Record<string, unknown>) as WireItem };
    return this.client.resolveConflict(conflictId, wire);
  }

  /**
   * Queues a local file (a path, or a Blob / File in the browser) for a `@sync.media`
   * field: once uploaded (UploadQueue / SyncWorker), the field gets the remote URL and
   * the change syncs.
   */
  attachFile(id: string, field: string, file: string | Blob, meta?: unknown): Promise<string> {
    return this.client.uploads.enqueue(this.descriptor.name, id, field, file, meta);
  }

  // ---------------------------------------------------------------- online

  private selection(): string {
    const fields = this.descriptor.fields.map((f) => f.name);
    return ['id', 'clientId', 'version', 'updatedAt', 'deletedAt', ...fields].join(' ');
  }

  /**
   * Creates the record on the server right away (no queue) and stores the
   * answer locally as synced. Resolves with the record, `serverId` set.
   */
  async createOnline(input: TCreate): Promise<TRecord & { serverId: string }> {
    const values = this.createValues(input);
    const clientId = newId();
    const name = this.descriptor.name;
    const mutation = this.descriptor.online?.create ?? mutationNames(name).create;
    const inputType = this.descriptor.online?.createInput ?? inputTypeNames(name).create;
    const translated = await this.client.engine.translateForServer(this.descriptor, values);
    const document = this.online?.create ?? `mutation($input:${inputType}!){ ${mutation}(input:$input){ ${this.selection()} } }`;
    const data = await this.client.transport.request<Record<string, WireItem>>(document, {
      input: { clientId, ...translated },
    });
    const item = data[mutation];
    if (!item || typeof item.id !== 'string') throw new Error(`${mutation} answered without an id`);
    await this.client.engine.applyServerItems(this.descriptor, [{ clientId, ...item }]);
    const stored = (await this.getByServerId(item.id)) ?? (await this.get(clientId));
    if (!stored || !stored.serverId) throw new Error(`${mutation} succeeded but the record was not stored locally`);
    return stored as TRecord & { serverId: string };
  }

  /**
   * Reads one record from the server right away (the typed `Get<Entity>` query), stores it
   * locally as synced (a record with local changes waiting keeps them) and resolves with the
   * local record, or null when the server has none.
   */
  async getOnline(serverId: string): Promise<TRecord | null> {
    const document = this.online?.get ?? `query($id:ID!){ ${lowerFirst(this.descriptor.name)}(id:$id){ ${this.selection()} } }`;
    const data = await this.client.transport.request<Record<string, WireItem | null>>(document, { id: serverId });
    const item = Object.values(data)[0] ?? null;
    if (!item || typeof item.id !== 'string') return null;
    await this.client.engine.applyServerItems(this.descriptor, [item]);
    return this.getByServerId(item.id);
  }

  /**
   * Reads one page of the server's records (the typed `List<Entities>` query), stores them
   * locally as synced and resolves with the local records and the next page's cursor.
   */
  async listOnline(page: { cursor?: string | null; limit?: number } = {}): Promise<{ items: TRecord[]; nextCursor: string | null }> {
    if (!this.online) throw new Error(`${this.descriptor.name}: listOnline needs the generated operations (regenerate the client)`);
    const data = await this.client.transport.request<Record<string, { items: WireItem[]; nextCursor: string | null }>>(
      this.online.list,
      { cursor: page.cursor ?? null, limit: page.limit ?? 100 },
    );
    const answer = Object.values(data)[0] ?? { items: [], nextCursor: null };
    await this.client.engine.applyServerItems(this.descriptor, answer.items);
    const items: TRecord[] = [];
    for (const item of answer.items) {
      const stored = typeof item.id === 'string' ? await this.getByServerId(item.id) : null;
      if (stored) items.push(stored);
    }
    return { items, nextCursor: answer.nextCursor ?? null };
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
