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
  return deletes || mayBecomeDeleted ? registry.descendantsOf(d.name) : [];
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
): Promise<CascadePlan> {
  const { client, batch } = store;
  // Creates of this batch still waiting to be written may be children too.
  if (batch) await batch.flush(client);
  const plan: CascadePlan = { tombstone: new Map(), clear: new Map() };
  const visited = new Map<string, Set<ServerId>>();
  const visit = async (parent: EntityDescriptor, parentIds: readonly ServerId[], path: string): Promise<void> => {
    for (const { child, field, action } of registry.dependentsOf(parent.name)) {
      const rows = await delegateOf(client, child.delegate).findMany({
        where: { AND: [tenantScope(child, principal), liveScope(child), { [field.name]: { in: [...parentIds] } }] },
        select: { id: true },
      });
      const seen = visited.get(child.name) ?? new Set<ServerId>();
      visited.set(child.name, seen);
      const found = rows.map((r) => r.id as ServerId).filter((id) => !seen.has(id));
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
export async function applyCascade(store: RecordStore, principal: Principal, plan: CascadePlan, stamps: ScopeStamps): Promise<void> {
  const { client, batch } = store;
  for (const child of new Set([...plan.tombstone.keys(), ...plan.clear.keys()])) batch?.invalidate(child);
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

/** Plans and applies in one go (for a caller that has nothing to write in between). */
export async function cascadeDelete(
  store: RecordStore,
  registry: EntityRegistry,
  principal: Principal,
  d: EntityDescriptor,
  row: Row,
  stamps: ScopeStamps,
): Promise<void> {
  const plan = await planCascade(store, registry, principal, d, [row.id as ServerId], row);
  await applyCascade(store, principal, plan, stamps);
}
