/**
 * The typed online path: get / list / create / update / delete of one entity.
 * Generated `<Entity>Service` classes extend this with their GraphQL types.
 */
import { authenticate, type Principal, type TrackhubContext } from './auth.js';
import { graphqlRecord, isDeletedRow, isPlainObject, isStorableText, missingRequired, parseItem, serializeRecord, type ParsedItem } from './codec.js';
import type { TrackhubCore } from './core.js';
import { decodeListCursor, encodeListCursor, idFits } from './cursor.js';
import type { EntityDescriptor } from './descriptor.js';
import { ItemError, SyncErrorCode, TrackhubError } from './errors.js';
import { validateInput } from './hooks.js';
import { parseServerId, type ServerId } from './ids.js';
import { delegateOf, isUniqueViolation, type Row } from './prisma.js';
import {
  deletionData,
  findByClientId,
  findById,
  guardedUpdate,
  insertRecord,
  liveScope,
  plainStore,
  resolveRelations,
  tenantScope,
} from './store.js';
import { constraintError } from './constraints.js';
import { applyCascade, DeleteRestrictedError, planCascade, scopesToLock } from './cascade.js';
import { bindAccess, readScope, writeAccessEntities } from './access.js';
import { applyMoves } from './scopes.js';
import type { ScopeStamps } from './sync-clock.js';

export interface CrudListArgs {
  limit?: number | null;
  cursor?: string | null;
}

export interface CrudPage<T> {
  items: T[];
  nextCursor: string | null;
}

const CRUD_OPS = ['get', 'list', 'create', 'update', 'delete'] as const;

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export class CrudService<TObject, TCreate extends object = Record<string, unknown>, TUpdate extends object = Record<string, unknown>> {
  constructor(
    protected readonly core: TrackhubCore,
    protected readonly descriptor: EntityDescriptor,
  ) {
    // Metrics per call (count, outcome, duration), around whatever class the methods end up in.
    for (const op of core.metrics ? CRUD_OPS : []) {
      const method = this[op] as (...args: unknown[]) => Promise<unknown>;
      Object.defineProperty(this, op, {
        value: (...args: unknown[]) => core.observer.crud(descriptor.name, op, () => method.apply(this, args)),
      });
    }
  }

  /** The verified principal, with the read rules (access.ts) of this entity and of its relations' targets bound. */
  protected async principal(context: TrackhubContext | undefined): Promise<Principal> {
    const principal = await authenticate(context, this.core.verifyToken);
    return bindAccess(this.core.registry, this.core.prisma, principal, writeAccessEntities(this.core.registry, this.descriptor));
  }

  /** A live record of the caller's tenant, or null (unknown id, another tenant's id, deleted). */
  async get(context: TrackhubContext | undefined, id: string): Promise<TObject | null> {
    const principal = await this.principal(context);
    const d = this.descriptor;
    const key = this.idOf(id);
    if (key === undefined) return null; // no such id can exist (and PostgreSQL would refuse the query)
    const row = await delegateOf(this.core.prisma, d.delegate).findFirst({
      where: { AND: [readScope(d, principal), liveScope(d), { id: key }] },
    });
    return row ? this.toObject(row) : null;
  }

  /** Live records of the caller's tenant, in id order, keyset-paged. */
  async list(context: TrackhubContext | undefined, args: CrudListArgs = {}): Promise<CrudPage<TObject>> {
    const principal = await this.principal(context);
    const d = this.descriptor;
    const limit = args.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new TrackhubError(SyncErrorCode.INVALID_LIMIT, `limit must be an integer between 1 and ${MAX_LIST_LIMIT}, got ${String(limit)}`);
    }
    const afterId = args.cursor ? decodeListCursor(args.cursor) : null;
    if (!idFits(d.idKind, afterId)) throw new TrackhubError(SyncErrorCode.INVALID_CURSOR, 'Invalid cursor: pass back a cursor this server returned for this entity');
    const rows = await delegateOf(this.core.prisma, d.delegate).findMany({
      where: { AND: [readScope(d, principal), liveScope(d), ...(afterId !== null ? [{ id: { gt: afterId } }] : [])] },
      orderBy: [{ id: 'asc' }],
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => this.toObject(row)),
      nextCursor: rows.length > limit ? encodeListCursor(page[page.length - 1].id as ServerId) : null,
    };
  }

  /** Creates at once and returns the server id; idempotent on clientId when one is given. */
  async create(context: TrackhubContext | undefined, input: TCreate): Promise<TObject> {
    const principal = await this.principal(context);
    const d = this.descriptor;
    const item = this.parse(input);
    const clientId = item.clientId ?? null;
    const missing = missingRequired(d, item);
    if (missing.length) throw new TrackhubError(SyncErrorCode.VALIDATION_FAILED, `missing required field(s): ${missing.join(', ')}`);
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.write(principal, async (tx, stamp) => {
          if (clientId) {
            const existing = await findByClientId(plainStore(tx), d, principal, clientId);
            if (existing) return existing;
          }
          const data: Row = { ...item.readonlyData, ...item.data };
          await validateInput(d.hooks, data, { principal, entity: d.name, operation: 'create', existing: null });
          await resolveRelations(plainStore(tx), d, principal, data);
          return insertRecord(plainStore(tx), d, principal, stamp, clientId, data);
        }, { ...item.readonlyData, ...item.data });
        return this.toObject(row);
      } catch (error) {
        if (attempt === 0 && clientId && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  /** Applies `input` if the record is still at `expectedVersion`, else a CONFLICT error carrying the current record. */
  async update(context: TrackhubContext | undefined, id: string, expectedVersion: number, input: TUpdate): Promise<TObject> {
    const principal = await this.principal(context);
    const item = this.parse(input);
    const d = this.descriptor;
    return this.toObject(
      await this.write(
        principal,
        async (tx, stamp, more) => {
          const existing = await this.live(tx, principal, id);
          this.expect(existing, expectedVersion);
          const data: Row = { ...item.data }; // readonly fields cannot change after create
          await validateInput(d.hooks, data, { principal, entity: d.name, operation: 'update', existing: serializeRecord(d, existing) });
          await resolveRelations(plainStore(tx), d, principal, data);
          const row = await this.guarded(tx, principal, existing, data, stamp);
          // A changed key on a scope path moves rows between scopes (scopes.ts).
          await applyMoves(tx, this.core.registry, principal, d, existing, data, stamp, more);
          return row;
        },
        { ...item.data },
        this.core.registry.movesOthers(d.name) ? this.core.registry.descendantsOf(d.name) : [],
      ),
    );
  }

  /** Soft-deletes (tombstone + version+1) if the record is still at `expectedVersion`. */
  async delete(context: TrackhubContext | undefined, id: string, expectedVersion: number): Promise<TObject> {
    const principal = await this.principal(context);
    const d = this.descriptor;
    return this.toObject(
      await this.write(
        principal,
        async (tx, stamp, more) => {
          const existing = await this.live(tx, principal, id);
          this.expect(existing, expectedVersion);
          await validateInput(d.hooks, {}, { principal, entity: d.name, operation: 'delete', existing: serializeRecord(d, existing) });
          // The relations' onDelete (cascade.ts): refused while Restrict children remain, else children follow.
          const cascade = await planCascade(plainStore(tx), this.core.registry, principal, d, [existing.id as ServerId], existing);
          const row = await this.guarded(tx, principal, existing, deletionData(d, stamp), stamp);
          await applyCascade(plainStore(tx), principal, cascade, { stamps: more });
          return row;
        },
        {},
        scopesToLock(this.core.registry, d, true),
      ),
    );
  }

  /** Row -> GraphQL object (no tenant, no server-only fields). */
  protected toObject(row: Row): TObject {
    return graphqlRecord(this.descriptor, row) as TObject;
  }

  private parse(input: object): ParsedItem {
    if (!isPlainObject(input)) throw new TrackhubError(SyncErrorCode.VALIDATION_FAILED, 'input must be an object');
    const raw: Record<string, unknown> = { ...input };
    // The online path has its own id / version arguments; these keys are not inputs.
    for (const key of ['id', 'version', 'updatedAt', 'deletedAt', '_base']) delete raw[key];
    try {
      return parseItem(this.descriptor, raw);
    } catch (error) {
      if (error instanceof ItemError) throw new TrackhubError(error.code, error.message);
      throw error;
    }
  }

  /**
   * One write transaction holding the scope's sync clock (see sync-clock.ts); `stamp` is its updatedAt.
   * A database constraint it hits becomes a per-field error (constraints.ts); `data` is what it wrote.
   */
  private async write(
    principal: Principal,
    fn: (tx: unknown, stamp: Date, more: ScopeStamps) => Promise<Row>,
    data: Row = {},
    alsoLock: readonly EntityDescriptor[] = [],
  ): Promise<Row> {
    try {
      return await this.core.clock.write(this.descriptor, principal, 1, (tx, stamp, more) => fn(tx, new Date(stamp), more), alsoLock);
    } catch (error) {
      if (error instanceof DeleteRestrictedError) {
        throw new TrackhubError(error.code, error.message, { current: serializeRecord(this.descriptor, error.current) });
      }
      if (error instanceof ItemError) throw new TrackhubError(error.code, error.message);
      const constraint = await constraintError(this.core.prisma, this.descriptor, principal, error, data);
      if (constraint) throw new TrackhubError(constraint.code, constraint.message);
      throw error;
    }
  }

  /** The stored id of an `id` argument, or undefined when no record can have it. */
  private idOf(id: string): ServerId | undefined {
    return isStorableText(id) ? parseServerId(this.descriptor.idKind, id) : undefined;
  }

  private async live(tx: unknown, principal: Principal, id: string): Promise<Row> {
    const key = this.idOf(id);
    const row = key !== undefined ? await findById(plainStore(tx), this.descriptor, principal, key) : null;
    if (!row || isDeletedRow(this.descriptor, row)) {
      throw new TrackhubError(SyncErrorCode.NOT_FOUND, `no ${this.descriptor.name} with id "${id}"`);
    }
    return row;
  }

  private expect(row: Row, expectedVersion: number): void {
    if (row.version !== expectedVersion) throw this.conflictError(row, expectedVersion);
  }

  private conflictError(row: Row, expectedVersion: number): TrackhubError {
    return new TrackhubError(
      SyncErrorCode.CONFLICT,
      `${this.descriptor.name} ${String(row.id)} is at version ${String(row.version)}, not ${expectedVersion}`,
      { current: serializeRecord(this.descriptor, row), serverVersion: row.version },
    );
  }

  private async guarded(tx: unknown, principal: Principal, existing: Row, data: Row, stamp: Date): Promise<Row> {
    const row = await guardedUpdate(plainStore(tx), this.descriptor, principal, existing, data, stamp);
    if (row) return row;
    const current = await findById(plainStore(tx), this.descriptor, principal, existing.id as ServerId);
    if (!current) throw new TrackhubError(SyncErrorCode.NOT_FOUND, `no ${this.descriptor.name} with id "${String(existing.id)}"`);
    throw this.conflictError(current, existing.version as number);
  }
}
