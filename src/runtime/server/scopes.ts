/**
 * Partial sync on the server: which rows a scope holds, and what a move does.
 *
 * A scoped entity's row belongs to the root its scope path leads to
 * (`TaskNote.task.project`). A pull for one root selects the rows whose path ends
 * at that root. A row leaves a root when a foreign key on its path changes (the
 * TaskNote's `taskId`, or its Task's `projectId`): the write that changes it
 *
 *   1. logs every row that left (`TrackhubScopeMove`: entity scope, old root, row),
 *      stamped in the row's own sync scope, which the next pull of the old root
 *      reads as removals;
 *   2. re-stamps the rows below the moved record (their own data did not change, so
 *      nothing else would bring them to devices of the new root).
 *
 * Both happen in the moving write's transaction, with the affected entities' clock
 * scopes locked (see `scopesToLock` in cascade.ts), so a pull sees the move and its
 * log entries together or not at all.
 */
import type { EntityScope, ScopeHop } from '../../contract/scopes.js';
import { SCOPE_MOVE_DELEGATE } from '../sync-clock-model.js';
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { ServerId } from './ids.js';
import { delegateOf, type Row } from './prisma.js';
import type { EntityRegistry } from './registry.js';
import type { ScopeStamps } from './sync-clock.js';
import { syncScope } from './sync-clock.js';
import { liveScope, tenantScope } from './store.js';

/** `where` of the rows of a scoped entity under `rootId`: `{ task: { is: { projectId: rootId } } }`. */
export function scopeWhere(scope: EntityScope, rootId: ServerId): Row {
  return below(scope.hops, { id: rootId });
}

/** `where` on the first model of `hops` for rows whose path through `hops` reaches a record matching `target`. */
function below(hops: readonly ScopeHop[], target: Row): Row {
  if (hops.length === 0) return target;
  const last = hops[hops.length - 1]!;
  // The last hop by its foreign key when the target is an id (no join); otherwise by the relation.
  let inner: Row = Object.keys(target).length === 1 && 'id' in target ? { [last.field]: target.id } : { [last.relation]: { is: target } };
  for (let i = hops.length - 2; i >= 0; i--) inner = { [hops[i]!.relation]: { is: inner } };
  return inner;
}

/**
 * The root a record of `model` hangs under when its hop-`depth` key (of `entity`'s path)
 * holds `value`: follows the rest of the path, one look-up per hop. Null when a record
 * on the way is missing.
 */
async function rootOf(client: unknown, registry: EntityRegistry, principal: Principal, entity: EntityDescriptor, depth: number, value: unknown): Promise<ServerId | null> {
  const hops = entity.scope!.hops;
  let current = value;
  for (let i = depth + 1; i < hops.length; i++) {
    if (current === null || current === undefined) return null;
    const model = registry.get(hops[i - 1]!.target);
    const row = await delegateOf(client, model.delegate).findFirst({
      where: { AND: [tenantScope(model, principal), { id: current }] },
      select: { [hops[i]!.field]: true },
    });
    current = row?.[hops[i]!.field];
  }
  return current === null || current === undefined ? null : (current as ServerId);
}

/**
 * Carries out the moves an update of `existing` (a `model` record) with `changes`
 * implies; call it in the write's transaction, after the guarded update succeeded.
 * `stamp` is the update's own stamp (the record itself, when it is scoped, was
 * stamped by the update).
 */
export async function applyMoves(
  client: unknown,
  registry: EntityRegistry,
  principal: Principal,
  model: EntityDescriptor,
  existing: Row,
  changes: Row,
  stamp: Date,
  stamps: ScopeStamps,
): Promise<void> {
  for (const [field, list] of registry.moversOf(model.name)) {
    if (!(field in changes) || changes[field] === existing[field]) continue;
    for (const { entity, depth } of list) {
      const from = await rootOf(client, registry, principal, entity, depth, existing[field]);
      const to = await rootOf(client, registry, principal, entity, depth, changes[field]);
      if (from === null || from === to) continue;
      let moved: Row[];
      let at = stamp;
      if (depth === 0) moved = [existing];
      else {
        moved = await delegateOf(client, entity.delegate).findMany({
          where: { AND: [tenantScope(entity, principal), liveScope(entity), below(entity.scope!.hops.slice(0, depth), { id: existing.id })] },
          select: { id: true, clientId: true },
        });
        if (moved.length === 0) continue;
        at = new Date(await stamps.next(entity));
        await delegateOf(client, entity.delegate).updateMany({
          where: { AND: [tenantScope(entity, principal), { id: { in: moved.map((r) => r.id) } }] },
          data: { updatedAt: at },
        });
      }
      await delegateOf(client, SCOPE_MOVE_DELEGATE).createMany!({
        data: moved.map((r) => ({
          scope: syncScope(entity, principal),
          root: String(from),
          recordId: String(r.id),
          clientId: (r.clientId as string | null | undefined) ?? null,
          stamp: at,
        })),
      });
    }
  }
}
