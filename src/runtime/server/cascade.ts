/**
 * Deletes and relations: what deleting a record does to the synced records that
 * reference it, by each relation's `onDelete` (Prisma's default when the schema
 * names none: `Restrict` for a required relation, `SetNull` for an optional one).
 *
 * Deletes are tombstones, so the database's own referential actions never run;
 * the server carries them out in the delete's transaction:
 *
 *   Cascade   live children are tombstoned (and their own children, recursively)
 *   SetNull   live children get the reference cleared
 *   Restrict  the delete is refused (DELETE_RESTRICTED) while a live child remains
 *
 * Every child write bumps the child's version and is stamped in the child's own
 * sync scope, so devices pull it like any other write. The writer locks those
 * scopes before reading the children (SyncClock.write's `alsoLock`), and a child
 * write locks its own scope before it reads its parent: a child created or moved
 * under a parent while the parent is being deleted is either seen by the delete
 * or sees the parent deleted (see `parentDeleted` in store.ts).
 *
 * Planning reads only and may refuse; applying writes. A refused item of a
 * batched push has written nothing.
 */
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import { ItemError, SyncErrorCode } from './errors.js';
import type { ServerId } from './ids.js';
import { delegateOf, type Row } from './prisma.js';
import type { EntityRegistry } from './registry.js';
import type { ScopeStamps } from './sync-clock.js';
import { liveScope, tenantScope, type RecordStore } from './store.js';

/** A delete refused by `onDelete: Restrict`; carries the record, so the answer can give a device the server's copy. */
export class DeleteRestrictedError extends ItemError {
  constructor(
    message: string,
    readonly current: Row,
  ) {
    super(SyncErrorCode.DELETE_RESTRICTED, message);
  }
}

/** The children writes a delete implies, by entity. */
export interface CascadePlan {
  tombstone: Map<EntityDescriptor, ServerId[]>;
  clear: Map<EntityDescriptor, Map<string, ServerId[]>>;
}

/**
 * The live children of the records a batched push deletes, read once for the whole batch
 * (one query per relation instead of one per deleted record): the first level of each
 * item's plan. Deeper levels, and records the index was not built for, are read as usual.
 * Children a plan tombstones or clears are dropped from it, so a later item sees them gone.
 */
export class ChildIndex {
  private readonly parents: Set<ServerId>;
  /** `${child}|${field}` -> parent id -> live child ids. */
  private readonly byRelation = new Map<string, Map<ServerId, ServerId[]>>();

  private constructor(parents: readonly ServerId[]) {
    this.parents = new Set(parents);
  }

  static async prefetch(client: unknown, registry: EntityRegistry, principal: Principal, d: EntityDescriptor, parents: readonly ServerId[]): Promise<ChildIndex> {
    const index = new ChildIndex(parents);
    for (const { child, field } of registry.dependentsOf(d.name)) {
      if (child.name === d.name) continue; // a self-relation changes within the batch: read per item
      const byParent = new Map<ServerId, ServerId[]>();
      for (let i = 0; i < parents.length; i += 500) {
        const rows = await delegateOf(client, child.delegate).findMany({
          where: { AND: [tenantScope(child, principal), liveScope(child), { [field.name]: { in: parents.slice(i, i + 500) } }] },
          select: { id: true, [field.name]: true },
        });
        for (const row of rows) {
          const parent = row[field.name] as ServerId;
          byParent.set(parent, [...(byParent.get(parent) ?? []), row.id as ServerId]);
        }
      }
      index.byRelation.set(`${child.name}|${field.name}`, byParent);
    }
    return index;
  }

  /** The live children of `parentIds` through one relation, or undefined when the index cannot tell. */
  children(child: EntityDescriptor, field: string, parentIds: readonly ServerId[]): ServerId[] | undefined {
    const byParent = this.byRelation.get(`${child.name}|${field}`);
    if (!byParent || !parentIds.every((id) => this.parents.has(id))) return undefined;
    return parentIds.flatMap((id) => byParent.get(id) ?? []);
  }

  /** Children of `child` that a plan tombstoned or cleared: no longer live children of anything indexed. */
  forget(child: EntityDescriptor, ids: readonly ServerId[]): void {
    const gone = new Set(ids);
    for (const [key, byParent] of this.byRelation) {
      if (!key.startsWith(`${child.name}|`)) continue;
      for (const [parent, list] of byParent) byParent.set(parent, list.filter((id) => !gone.has(id)));
    }
  }
}

/** What a write that may delete needs: stamps in the children's scopes, and a batch's child index. */
export interface CascadeContext {
  stamps: ScopeStamps;
  children?: ChildIndex;
}

/** True when a delete of `d` has anything to do beyond its own tombstone (and so must lock its descendants' scopes). */
export function hasDependents(registry: EntityRegistry, d: EntityDescriptor): boolean {
  return registry.dependentsOf(d.name).length > 0;
}

/**
 * Scopes a write of `d` must lock up front: every entity its deletes may reach,
 * parents first. Needed when the write deletes (`deletes`), or when a create or
 * update of `d` may be stored deleted (a Cascade relation whose parent is gone).
 */
export function scopesToLock(registry: EntityRegistry, d: EntityDescriptor, deletes: boolean): EntityDescriptor[] {
  if (!hasDependents(registry, d)) return [];
  const mayBecomeDeleted = d.fields.some((f) => f.relation?.onDelete === 'Cascade');
  // An update of a key on a scope path re-stamps the rows below it (scopes.ts): they are descendants too.
  return deletes || mayBecomeDeleted || registry.movesOthers(d.name) ? registry.descendantsOf(d.name) : [];
}

/**
 * Reads what deleting `ids` of `d` implies; throws DeleteRestrictedError (naming the
 * blocking relation) when a live child under `Restrict` remains. `root` is the record
 * the caller deletes (reported with a refusal).
 */
export async function planCascade(
  store: RecordStore,
  registry: EntityRegistry,
  principal: Principal,
  d: EntityDescriptor,
  ids: readonly ServerId[],
  root: Row,
  index?: ChildIndex,
): Promise<CascadePlan> {
  const { client, batch } = store;
  // Creates of this batch still waiting to be written are records of `d`: children only through a self-relation.
  if (batch && registry.dependentsOf(d.name).some((x) => x.child.name === d.name)) await batch.flush(client);
  const plan: CascadePlan = { tombstone: new Map(), clear: new Map() };
  const visited = new Map<string, Set<ServerId>>();
  const visit = async (parent: EntityDescriptor, parentIds: readonly ServerId[], path: string): Promise<void> => {
    for (const { child, field, action } of registry.dependentsOf(parent.name)) {
      const known = parent === d ? index?.children(child, field.name, parentIds) : undefined;
      const ids =
        known ??
        (
          await delegateOf(client, child.delegate).findMany({
            where: { AND: [tenantScope(child, principal), liveScope(child), { [field.name]: { in: [...parentIds] } }] },
            select: { id: true },
          })
        ).map((r) => r.id as ServerId);
      const seen = visited.get(child.name) ?? new Set<ServerId>();
      visited.set(child.name, seen);
      const found = ids.filter((id) => !seen.has(id));
      if (found.length === 0) continue;
      if (action === 'Restrict') {
        throw new DeleteRestrictedError(
          `${path} still has ${found.length} live ${child.name} record(s) (${child.name}.${field.name} is onDelete: Restrict, ` +
            `Prisma's default for a required relation): delete or move them first, or make the relation onDelete: Cascade or SetNull`,
          root,
        );
      }
      if (action === 'SetNull') {
        const byField = plan.clear.get(child) ?? new Map<string, ServerId[]>();
        byField.set(field.name, [...(byField.get(field.name) ?? []), ...found]);
        plan.clear.set(child, byField);
        continue;
      }
      for (const id of found) seen.add(id);
      plan.tombstone.set(child, [...(plan.tombstone.get(child) ?? []), ...found]);
      await visit(child, found, `${child.name} ${String(found[0])}`);
    }
  };
  await visit(d, ids, `${d.name} ${String(ids[0])}`);
  // A child both cleared (one relation) and tombstoned (another): the tombstone is enough.
  for (const [child, byField] of plan.clear) {
    const gone = new Set(plan.tombstone.get(child) ?? []);
    for (const [field, list] of byField) byField.set(field, list.filter((id) => !gone.has(id)));
  }
  return plan;
}

/** Writes a plan: each child entity's changes in one statement per action, stamped in its own scope. */
export async function applyCascade(store: RecordStore, principal: Principal, plan: CascadePlan, context: CascadeContext): Promise<void> {
  const { client, batch } = store;
  const { stamps, children: index } = context;
  for (const child of new Set([...plan.tombstone.keys(), ...plan.clear.keys()])) batch?.invalidate(child);
  for (const [child, ids] of plan.tombstone) index?.forget(child, ids);
  for (const [child, byField] of plan.clear) for (const ids of byField.values()) index?.forget(child, ids);
  for (const [child, ids] of plan.tombstone) {
    if (ids.length === 0) continue;
    const stamp = new Date(await stamps.next(child));
    await delegateOf(client, child.delegate).updateMany({
      where: { AND: [tenantScope(child, principal), liveScope(child), { id: { in: ids } }] },
      data: { [child.tombstoneField]: stamp, updatedAt: stamp, version: { increment: 1 } },
    });
  }
  for (const [child, byField] of plan.clear) {
    for (const [field, ids] of byField) {
      if (ids.length === 0) continue;
      const stamp = new Date(await stamps.next(child));
      await delegateOf(client, child.delegate).updateMany({
        where: { AND: [tenantScope(child, principal), { id: { in: ids } }] },
        data: { [field]: null, updatedAt: stamp, version: { increment: 1 } },
      });
    }
  }
}
