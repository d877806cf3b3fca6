/**
 * STUB server for client tests: an in-process `fetch` that implements the
 * wire protocol's semantics minimally (docs/ARCHITECTURE.md), in memory.
 * It is NOT the generated NestJS server; the integrator runs the real
 * end-to-end suite against that one.
 *
 * - syncPull: tenant-scoped, stable (updatedAt, id) order, tombstones
 *   included, keyset cursor, `since` fallback.
 * - syncPush: per-item results; creates idempotent on (tenant, clientId);
 *   version / updatedAt set by the server; a foreign key may be a server id
 *   or a clientId of the same tenant; conflict rules per strategy (merge is
 *   field-level with the item's `_base`, like the generated server).
 * - create<Name>(input): online create.
 * - Auth: `Authorization: Bearer dev:<tenantId>:<userId>`, else UNAUTHENTICATED.
 */
import { Kind, parse } from 'graphql';
import type { FieldNode, OperationDefinitionNode } from 'graphql';

import type { EntityDescriptor, FetchLike } from '../../../src/runtime/client/node.js';

export interface StubRow {
  id: string;
  clientId: string | null;
  version: number;
  updatedAt: number;
  deletedAt: number | null;
  tenant: string;
  data: Record<string, unknown>;
}

type Item = Record<string, unknown>;

interface Result {
  clientId: string | null;
  id: string | null;
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  version: number | null;
  updatedAt: string | null;
  conflict: {
    serverData: Item | null;
    clientData: Item | null;
    serverVersion: number | null;
    resolutionSuggested: unknown;
  } | null;
}

export interface StubRequest {
  field: string;
  tenant: string | null;
  variables: Record<string, unknown>;
}

let counter = 0;

export class StubSyncServer {
  readonly rows = new Map<string, StubRow[]>();
  readonly requests: StubRequest[] = [];
  inflight = 0;
  maxInflight = 0;
  /** Artificial latency of every request (ms). */
  latencyMs = 0;
  /** Runs before a request is handled; throw to simulate a network failure. */
  beforeRequest: ((request: StubRequest) => void | Promise<void>) | null = null;
  /** Returns an error code to reject one pushed item. */
  rejectItem: ((entity: string, item: Item) => string | null) | null = null;
  private clock = 0;
  private readonly entities = new Map<string, EntityDescriptor>();

  constructor(entities: EntityDescriptor[]) {
    for (const entity of entities) this.entities.set(entity.name, entity);
  }

  /** Strictly increasing server time (ms). */
  tick(): number {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return this.clock;
  }

  table(tenant: string, entity: string): StubRow[] {
    const key = `${tenant}/${entity}`;
    let rows = this.rows.get(key);
    if (!rows) {
      rows = [];
      this.rows.set(key, rows);
    }
    return rows;
  }

  /** Server-side write (another device or an admin), no clientId unless given. */
  insert(tenant: string, entity: string, data: Record<string, unknown>, clientId: string | null = null): StubRow {
    const row: StubRow = {
      id: `srv-${++counter}`,
      clientId,
      version: 1,
      updatedAt: this.tick(),
      deletedAt: null,
      tenant,
      data: { ...data },
    };
    this.table(tenant, entity).push(row);
    return row;
  }

  /** Server-side update (bumps version and updatedAt). */
  touch(tenant: string, entity: string, id: string, data: Record<string, unknown>): StubRow {
    const row = this.table(tenant, entity).find((r) => r.id === id);
    if (!row) throw new Error(`no ${entity} ${id}`);
    Object.assign(row.data, data);
    row.version += 1;
    row.updatedAt = this.tick();
    return row;
  }

  remove(tenant: string, entity: string, id: string): StubRow {
    const row = this.table(tenant, entity).find((r) => r.id === id);
    if (!row) throw new Error(`no ${entity} ${id}`);
    row.deletedAt = this.tick();
    row.updatedAt = row.deletedAt;
    row.version += 1;
    return row;
  }

  wire(row: StubRow): Item {
    return {
      ...row.data,
      id: row.id,
      clientId: row.clientId,
      version: row.version,
      updatedAt: new Date(row.updatedAt).toISOString(),
      deletedAt: row.deletedAt === null ? null : new Date(row.deletedAt).toISOString(),
    };
  }

  readonly fetch: FetchLike = async (_url, init) => {
    const body = JSON.parse(init.body) as { query: string; variables?: Record<string, unknown> };
    const document = parse(body.query);
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    )!;
    const match = /^Bearer dev:([^:]+):(.+)$/.exec(init.headers.authorization ?? '');
    const tenant = match ? match[1]! : null;
    // One request per root field (a document may hold several, under aliases): its variables
    // are the ones its arguments name.
    const fields = operation.selectionSet.selections.filter((sel): sel is FieldNode => sel.kind === Kind.FIELD);
    const requests = fields.map((f) => {
      const variables: Record<string, unknown> = {};
      for (const arg of f.arguments ?? []) {
        if (arg.value.kind === Kind.VARIABLE && body.variables && arg.value.name.value in body.variables) variables[arg.name.value] = body.variables[arg.value.name.value];
      }
      return { key: f.alias?.value ?? f.name.value, request: { field: f.name.value, tenant, variables } satisfies StubRequest };
    });
    this.inflight += 1;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
      const data: Record<string, unknown> = {};
      const errors: unknown[] = [];
      for (const { key, request } of requests) {
        this.requests.push(request);
        if (this.beforeRequest) await this.beforeRequest(request);
        const answer = this.handle(request) as { data?: Record<string, unknown>; errors?: unknown[] };
        if (answer.errors) errors.push(...answer.errors);
        else data[key] = answer.data?.[request.field];
      }
      const answer = errors.length ? { errors } : { data };
      return { ok: true, status: 200, text: async () => JSON.stringify(answer) };
    } finally {
      this.inflight -= 1;
    }
  };

  private handle(request: StubRequest): { data?: unknown; errors?: unknown[] } {
    if (!request.tenant) return { errors: [{ message: 'Unauthenticated', extensions: { code: 'UNAUTHENTICATED' } }] };
    const v = request.variables;
    if (request.field === 'syncPull') return { data: { syncPull: this.pull(request.tenant, v) } };
    if (request.field === 'syncPush') return { data: { syncPush: this.push(request.tenant, v) } };
    const create = /^create(\w+)$/.exec(request.field);
    if (create && this.entities.has(create[1]!)) {
      const entity = this.entities.get(create[1]!)!;
      const input = { ...(v.input as Item) };
      const clientId = typeof input.clientId === 'string' ? input.clientId : null;
      delete input.clientId;
      const existing = clientId
        ? this.table(request.tenant, entity.name).find((r) => r.clientId === clientId)
        : undefined;
      const fk = this.resolveForeignKeys(request.tenant, entity, input);
      if (typeof fk === 'string') return { errors: [{ message: fk, extensions: { code: 'BAD_USER_INPUT' } }] };
      const row = existing ?? this.insert(request.tenant, entity.name, this.dataOf(entity, input, true), clientId);
      return { data: { [request.field]: this.wire(row) } };
    }
    return { errors: [{ message: `Stub does not implement ${request.field}` }] };
  }

  private pull(tenant: string, v: Record<string, unknown>): unknown {
    const entity = this.entities.get(String(v.entity));
    if (!entity) throw new Error(`unknown entity ${String(v.entity)}`);
    const limit = typeof v.limit === 'number' ? v.limit : 1000;
    let rows = [...this.table(tenant, entity.name)].sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1));
    if (typeof v.cursor === 'string') {
      const c = JSON.parse(Buffer.from(v.cursor, 'base64url').toString()) as { u: number; i: string };
      rows = rows.filter((r) => r.updatedAt > c.u || (r.updatedAt === c.u && r.id > c.i));
    } else if (typeof v.since === 'string') {
      const since = Date.parse(v.since);
      rows = rows.filter((r) => r.updatedAt > since);
    }
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const cursor = last
      ? Buffer.from(JSON.stringify({ u: last.updatedAt, i: last.id })).toString('base64url')
      : (v.cursor ?? null);
    const lastSyncAt = last
      ? new Date(last.updatedAt).toISOString()
      : typeof v.since === 'string'
        ? v.since
        : new Date(0).toISOString();
    return { items: page.map((r) => this.wire(r)), lastSyncAt, hasMore: rows.length > limit, cursor };
  }

  private dataOf(entity: EntityDescriptor, item: Item, isCreate: boolean): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const f of entity.fields) {
      if (!(f.name in item)) continue;
      if (f.access === 'readonly' && !isCreate) continue;
      data[f.name] = item[f.name];
    }
    return data;
  }

  /** Translates clientId foreign keys (same tenant) to server ids, in place. Returns an error message or null. */
  private resolveForeignKeys(tenant: string, entity: EntityDescriptor, item: Item): string | null {
    for (const f of entity.fields) {
      if (!f.relation || typeof item[f.name] !== 'string') continue;
      const value = item[f.name] as string;
      const target = this.table(tenant, f.relation);
      const row = target.find((r) => r.id === value) ?? target.find((r) => r.clientId === value);
      if (!row) return `${entity.name}.${f.name}: no ${f.relation} ${value}`;
      item[f.name] = row.id;
    }
    return null;
  }

  private push(tenant: string, v: Record<string, unknown>): Result[] {
    const entity = this.entities.get(String(v.entity));
    if (!entity) throw new Error(`unknown entity ${String(v.entity)}`);
    const table = this.table(tenant, entity.name);
    return (v.items as Item[]).map((raw): Result => {
      const item = { ...raw };
      const clientId = typeof item.clientId === 'string' ? item.clientId : null;
      const fail = (code: string, message: string, conflict: Result['conflict'] = null, row?: StubRow): Result => ({
        clientId,
        id: row?.id ?? (typeof item.id === 'string' ? item.id : null),
        success: false,
        errorCode: code,
        errorMessage: message,
        version: row?.version ?? null,
        updatedAt: row ? new Date(row.updatedAt).toISOString() : null,
        conflict,
      });
      const ok = (row: StubRow, conflict: Result['conflict'] = null): Result => ({
        clientId: row.clientId ?? clientId,
        id: row.id,
        success: true,
        errorCode: null,
        errorMessage: null,
        version: row.version,
        updatedAt: new Date(row.updatedAt).toISOString(),
        conflict,
      });
      const rejected = this.rejectItem?.(entity.name, item);
      if (rejected) return fail(rejected, `rejected by test: ${rejected}`);
      const fkError = this.resolveForeignKeys(tenant, entity, item);
      if (fkError) return fail('INVALID_REFERENCE', fkError);
      const existing =
        (typeof item.id === 'string' ? table.find((r) => r.id === item.id) : undefined) ??
        (clientId ? table.find((r) => r.clientId === clientId) : undefined);
      const isDelete = item.deletedAt !== null && item.deletedAt !== undefined;
      const isCreate = item.version === undefined || item.version === null;
      if (isCreate && isDelete) {
        // Created and deleted on the device before it synced: remove the copy if the create got through.
        if (existing && existing.deletedAt === null) {
          existing.deletedAt = this.tick();
          existing.updatedAt = existing.deletedAt;
          existing.version += 1;
        }
        if (existing) return ok(existing);
        return {
          clientId,
          id: null,
          success: true,
          errorCode: null,
          errorMessage: null,
          version: null,
          updatedAt: null,
          conflict: null,
        };
      }
      if (!existing) {
        if (typeof item.id === 'string' || isDelete) return fail('NOT_FOUND', 'no such record');
        return ok(this.insert(tenant, entity.name, this.dataOf(entity, item, true), clientId));
      }
      if (isCreate) return ok(existing); // retried create
      const apply = (): StubRow => {
        if (isDelete) existing.deletedAt = this.tick();
        else Object.assign(existing.data, this.dataOf(entity, item, false));
        existing.version += 1;
        existing.updatedAt = isDelete ? existing.deletedAt! : this.tick();
        return existing;
      };
      if (item.version === existing.version && existing.deletedAt === null) return ok(apply());
      const conflict = {
        serverData: this.wire(existing),
        clientData: raw,
        serverVersion: existing.version,
        resolutionSuggested: null as unknown,
      };
      const localTime = Date.parse(String(item.updatedAt));
      if (entity.conflict === 'merge' && existing.deletedAt === null && !isDelete) {
        const base = (item._base ?? {}) as Item;
        const apply: Item = {};
        const clashes: string[] = [];
        for (const [name, value] of Object.entries(this.dataOf(entity, item, false))) {
          const theirs = existing.data[name] ?? null;
          if (JSON.stringify(value) === JSON.stringify(theirs)) continue;
          if (name in base && JSON.stringify(base[name]) === JSON.stringify(theirs)) apply[name] = value;
          else clashes.push(name);
        }
        if (clashes.length === 0) {
          Object.assign(existing.data, apply);
          existing.version += 1;
          existing.updatedAt = this.tick();
          return ok(existing);
        }
        conflict.resolutionSuggested = { ...this.wire(existing), ...apply };
        return fail('CONFLICT', `changed on both sides: ${clashes.join(', ')}`, conflict, existing);
      }
      let clientWins = false;
      switch (entity.conflict) {
        case 'clientWins':
          clientWins = existing.deletedAt === null;
          break;
        case 'timestamp':
          clientWins = existing.deletedAt === null && localTime > existing.updatedAt;
          break;
        default:
          clientWins = false;
      }
      if (clientWins) return ok(apply(), conflict);
      conflict.resolutionSuggested = conflict.serverData;
      return fail('CONFLICT', `version ${String(item.version)} is behind ${existing.version}`, conflict, existing);
    });
  }
}
