/**
 * Partial sync on the device: the scope paths of the descriptors (checked once),
 * the rows under a scope root (walking the path's foreign keys down, level by
 * level), the subscriptions (`sync_scopes`), and eviction.
 *
 * Levels of a scoped entity S with hops h0..h(n-1): level 0 is S, level j is
 * h(j-1).target, level n the root. Hop j's field is a foreign key on level j's
 * model holding the LOCAL id of the level j+1 record.
 *
 * The rule eviction keeps: unsynced changes inside an evicted scope are never
 * lost. A row with an open operation stays, and so do its ancestors on the path
 * (its foreign keys must still resolve when it is pushed); the subscription
 * waits in `removing` and the eviction is retried after every pull phase until
 * nothing is kept.
 */
import { Q } from '@nozbe/watermelondb';

import type { EntityScope, ScopeStatus } from '../../../contract/scopes.js';
import type { EntityDescriptor, FieldDescriptor } from '../descriptors.js';
import { newId } from '../ids.js';
import { RUNTIME_TABLES, type SyncScopeRecord, type SyncStateRecord } from '../tables.js';
import type { EngineContext } from './context.js';
import { chunks, raw, type AnyModel } from './types.js';

/** Which stream of a scoped entity a pull reads: a scope root's (its server id and its local id). */
export interface PullStream {
  scope: string;
  rootLocalId: string;
}

/** Checks every descriptor's scope path against the entities; throws a clear error on the first bad one. */
export function checkScopes(entities: readonly EntityDescriptor[]): void {
  const byName = new Map(entities.map((e) => [e.name, e]));
  for (const entity of entities) {
    const scope = entity.scope;
    if (!scope) continue;
    const where = `${entity.name}.scope`;
    if (scope.hops.length === 0) throw new Error(`${where}: the scope path has no hop`);
    let model = entity;
    for (const [i, hop] of scope.hops.entries()) {
      const field = model.fields.find((f) => f.name === hop.field);
      if (!field) throw new Error(`${where}: hop ${i} (${hop.relation}) names field ${hop.field}, which ${model.name} does not have`);
      const target = byName.get(hop.target);
      if (!target) throw new Error(`${where}: hop ${i} (${hop.relation}) leads to ${hop.target}, which is no entity of this client`);
      model = target;
    }
    if (model.name !== scope.root) throw new Error(`${where}: the path ends at ${model.name}, not at its root ${scope.root}`);
    if (byName.get(scope.root)?.scope) throw new Error(`${where}: the root ${scope.root} is itself scoped (a root syncs tenant-wide)`);
  }
}

/** Entities that are scope roots (some entity's `scope.root`), in entity order. */
export function scopeRoots(entities: readonly EntityDescriptor[]): string[] {
  const roots = new Set(entities.flatMap((e) => (e.scope ? [e.scope.root] : [])));
  return entities.filter((e) => roots.has(e.name)).map((e) => e.name);
}

/** The scoped entities of `root`, in entity order (parents first). */
export function scopedEntitiesOf(entities: readonly EntityDescriptor[], root: string): EntityDescriptor[] {
  return entities.filter((e) => e.scope?.root === root);
}

function scopeOf(entity: EntityDescriptor): EntityScope {
  if (!entity.scope) throw new Error(`${entity.name} has no scope`);
  return entity.scope;
}

/** Model at level j of the scoped entity's path. */
function levelEntity(ctx: EngineContext, scoped: EntityDescriptor, level: number): EntityDescriptor {
  return level === 0 ? scoped : ctx.entity(scopeOf(scoped).hops[level - 1]!.target);
}

/** The foreign key (on level j's model) of hop j. */
function hopField(ctx: EngineContext, scoped: EntityDescriptor, level: number): FieldDescriptor {
  const hop = scopeOf(scoped).hops[level]!;
  const model = levelEntity(ctx, scoped, level);
  const field = model.fields.find((f) => f.name === hop.field);
  if (!field) throw new Error(`${scoped.name}.scope: ${model.name} has no field ${hop.field}`);
  return field;
}

/** Rows of one level: local id -> the row and its parent's local id (the level above). */
export interface ScopeLevel {
  entity: EntityDescriptor;
  rows: Map<string, { record: AnyModel; parent: string }>;
}

/**
 * The rows of `scoped`'s path below `ids` (local ids of level `from`'s model):
 * index j of the result is level j, for j < from (index `from` and up are absent).
 */
export async function walkDown(ctx: EngineContext, scoped: EntityDescriptor, from: number, ids: readonly string[]): Promise<ScopeLevel[]> {
  const levels: ScopeLevel[] = [];
  let parents = [...new Set(ids)];
  for (let level = from - 1; level >= 0; level--) {
    const entity = levelEntity(ctx, scoped, level);
    const column = hopField(ctx, scoped, level).column;
    const rows = new Map<string, { record: AnyModel; parent: string }>();
    for (const chunk of chunks(parents, 500)) {
      for (const record of await ctx.collection(entity).query(Q.where(column, Q.oneOf(chunk))).fetch()) {
        rows.set(record.id, { record, parent: raw(record, column) as string });
      }
    }
    levels[level] = { entity, rows };
    parents = [...rows.keys()];
    if (parents.length === 0) {
      for (let l = level - 1; l >= 0; l--) levels[l] = { entity: levelEntity(ctx, scoped, l), rows: new Map() };
      break;
    }
  }
  return levels;
}

/**
 * The local id of the scope root each of `records` (of `scoped`) hangs under on this
 * device, walking the path's foreign keys up; null where a link is missing.
 */
export async function rootsOf(ctx: EngineContext, scoped: EntityDescriptor, records: readonly AnyModel[]): Promise<Map<string, string | null>> {
  const hops = scopeOf(scoped).hops;
  // at: record id -> the local id it points at on the current level.
  let at = new Map(records.map((r) => [r.id, (raw(r, hopField(ctx, scoped, 0).column) as string | null) ?? null]));
  for (let level = 1; level < hops.length; level++) {
    const column = hopField(ctx, scoped, level).column;
    const ids = [...new Set([...at.values()].filter((v): v is string => v !== null))];
    const parent = new Map<string, string | null>();
    for (const chunk of chunks(ids, 500))
      for (const record of await ctx.collection(levelEntity(ctx, scoped, level)).query(Q.where('id', Q.oneOf(chunk))).fetch())
        parent.set(record.id, (raw(record, column) as string | null) ?? null);
    at = new Map([...at].map(([id, v]) => [id, v === null ? null : (parent.get(v) ?? null)]));
  }
  return at;
}

/** Rows of `scoped` under the scope root record `rootLocalId`. */
export async function rowsUnderRoot(ctx: EngineContext, scoped: EntityDescriptor, rootLocalId: string): Promise<AnyModel[]> {
  const levels = await walkDown(ctx, scoped, scopeOf(scoped).hops.length, [rootLocalId]);
  return [...levels[0]!.rows.values()].map((r) => r.record);
}

/**
 * Of `ids` (local ids of `entity`), those that have an open operation themselves or
 * have a record under them (along some scoped entity's path through `entity`) that has one.
 */
export async function pendingUnder(ctx: EngineContext, entity: EntityDescriptor, ids: readonly string[]): Promise<Set<string>> {
  const pending = new Set<string>();
  if (ids.length === 0) return pending;
  for (const id of await ctx.queue.recordsWithOpenOps(entity.name, [...ids])) pending.add(id);
  for (const scoped of ctx.entities) {
    const hops = scoped.scope?.hops ?? [];
    for (let from = 1; from <= hops.length; from++) {
      if (hops[from - 1]!.target !== entity.name) continue;
      const levels = await walkDown(ctx, scoped, from, ids);
      // top[level] : local id -> the id of `entity` it hangs under.
      let top = new Map(ids.map((id) => [id, id]));
      for (let level = from - 1; level >= 0; level--) {
        const { entity: model, rows } = levels[level]!;
        const next = new Map<string, string>();
        for (const [id, row] of rows) next.set(id, top.get(row.parent)!);
        if (next.size > 0) for (const id of await ctx.queue.recordsWithOpenOps(model.name, [...next.keys()])) pending.add(next.get(id)!);
        top = next;
      }
    }
  }
  return pending;
}

// ---------------------------------------------------------------- subscriptions

export function subscriptions(ctx: Pick<EngineContext, 'database'>) {
  return ctx.database.get<SyncScopeRecord>(RUNTIME_TABLES.syncScopes);
}

/** Subscriptions, optionally of one root entity and / or status, oldest first. */
export async function listSubscriptions(ctx: Pick<EngineContext, 'database'>, filter: { root?: string; status?: ScopeStatus } = {}): Promise<SyncScopeRecord[]> {
  const clauses = [];
  if (filter.root) clauses.push(Q.where('entity', filter.root));
  if (filter.status) clauses.push(Q.where('status', filter.status));
  const rows = await subscriptions(ctx).query(...clauses).fetch();
  return rows.sort((a, b) => a.subscribedAt - b.subscribedAt || (a.id < b.id ? -1 : 1));
}

export function prepareSubscription(ctx: Pick<EngineContext, 'database'>, root: string, recordId: string, serverId: string | null): SyncScopeRecord {
  return subscriptions(ctx).prepareCreate((s) => {
    s._raw.id = newId();
    s._setRaw('entity', root);
    s._setRaw('record_id', recordId);
    s._setRaw('server_id', serverId);
    s._setRaw('status', 'active');
    s._setRaw('created_at', Date.now());
  });
}

/** The sync_state rows of every scoped entity of the subscription's root, for its scope. */
async function scopeStates(ctx: EngineContext, sub: SyncScopeRecord): Promise<SyncStateRecord[]> {
  if (!sub.serverId) return [];
  const names = scopedEntitiesOf(ctx.entities, sub.entity).map((e) => e.name);
  if (names.length === 0) return [];
  return ctx.database
    .get<SyncStateRecord>(RUNTIME_TABLES.syncState)
    .query(Q.where('entity', Q.oneOf(names)), Q.where('scope', sub.serverId))
    .fetch();
}

// ---------------------------------------------------------------- eviction

export interface EvictionPlan {
  /** Rows to destroy, deepest entities first. */
  destroy: AnyModel[];
  /** Destroyed rows per entity name. */
  evicted: Map<string, string[]>;
  /** Rows kept because they (or a row under them) have open operations. */
  kept: number;
}

/**
 * Plans evicting the scope rooted at `rootLocalId` (an entity of `root`): the rows of
 * every scoped entity of that root under it, except rows with open operations and
 * their ancestors on the path. Call inside a writer; batch `destroy` in the same one.
 */
export async function planEviction(ctx: EngineContext, root: string, rootLocalId: string): Promise<EvictionPlan> {
  const scoped = scopedEntitiesOf(ctx.entities, root);
  const chains = await Promise.all(scoped.map(async (s) => ({ scoped: s, levels: await walkDown(ctx, s, scopeOf(s).hops.length, [rootLocalId]) })));
  const key = (entity: string, id: string): string => `${entity}|${id}`;
  const kept = new Set<string>();
  // Rows with open operations, per entity, over every chain's rows of that entity.
  const byEntity = new Map<string, Set<string>>();
  for (const { levels } of chains) {
    for (const level of levels) {
      const set = byEntity.get(level.entity.name) ?? new Set<string>();
      for (const id of level.rows.keys()) set.add(id);
      byEntity.set(level.entity.name, set);
    }
  }
  for (const [entity, ids] of byEntity) {
    for (const id of await ctx.queue.recordsWithOpenOps(entity, [...ids])) kept.add(key(entity, id));
  }
  // Ancestors of kept rows are kept too; chains share levels (Task is both a scoped entity and TaskNote's level 1), so repeat until stable.
  for (let changed = true; changed; ) {
    changed = false;
    for (const { levels } of chains) {
      for (let level = 0; level < levels.length - 1; level++) {
        const { entity, rows } = levels[level]!;
        const above = levels[level + 1]!.entity.name;
        for (const [id, row] of rows) {
          if (!kept.has(key(entity.name, id)) || kept.has(key(above, row.parent))) continue;
          kept.add(key(above, row.parent));
          changed = true;
        }
      }
    }
  }
  const destroy: AnyModel[] = [];
  const evicted = new Map<string, string[]>();
  let keptCount = 0;
  const done = new Set<string>();
  for (const { scoped: s, levels } of [...chains].reverse()) {
    const ids: string[] = [];
    for (const [id, row] of levels[0]!.rows) {
      if (done.has(key(s.name, id))) continue;
      done.add(key(s.name, id));
      if (kept.has(key(s.name, id))) keptCount += 1;
      else {
        ids.push(id);
        destroy.push(row.record.prepareDestroyPermanently());
      }
    }
    if (ids.length > 0) evicted.set(s.name, ids);
  }
  return { destroy, evicted, kept: keptCount };
}

/**
 * Evicts the subscription's scope in one writer. `then`: `revoke` marks it revoked and
 * drops its streams' positions; `remove` deletes the subscription (and its positions)
 * once nothing was kept, else leaves it `removing`. Resolves with what was evicted.
 */
export async function evictScope(ctx: EngineContext, sub: SyncScopeRecord, then: 'revoke' | 'remove'): Promise<EvictionPlan> {
  return ctx.database.write(async () => {
    const plan = await planEviction(ctx, sub.entity, sub.recordId);
    const states = await scopeStates(ctx, sub);
    const done = then === 'remove' && plan.kept === 0;
    const status: ScopeStatus = then === 'revoke' ? 'revoked' : 'removing';
    await ctx.database.batch(
      ...plan.destroy,
      ...(then === 'revoke' || done ? states.map((s) => s.prepareDestroyPermanently()) : []),
      done ? sub.prepareDestroyPermanently() : sub.status === status ? null : sub.prepareUpdate((s) => s._setRaw('status', status)),
    );
    return plan;
  }, 'trackhub:evictScope');
}

/** Retries the eviction of every `removing` subscription (after a pull phase). Resolves with rows evicted per entity. */
export async function finishRemovals(ctx: EngineContext): Promise<Map<string, number>> {
  const evicted = new Map<string, number>();
  for (const sub of await listSubscriptions(ctx, { status: 'removing' })) {
    const plan = await evictScope(ctx, sub, 'remove');
    for (const [entity, ids] of plan.evicted) evicted.set(entity, (evicted.get(entity) ?? 0) + ids.length);
  }
  return evicted;
}
