/**
 * `client.scopes`: what the app says it wants of the entities synced by scope
 * (partial sync). A subscription names a scope root record (a Project); the next sync
 * pulls the scoped records under it, each scoped entity from its own position, so
 * adding a root pulls only its subtree. Subscriptions persist in `sync_scopes`.
 *
 * Removing one evicts the records under the root at once, except records with
 * unsynced changes and the records above them on the scope path: those stay until
 * their changes are pushed, and go with the next sync after that (the subscription
 * reads `removing` meanwhile). Nothing unsynced is lost.
 */
import { Q } from '@nozbe/watermelondb';

import type { ScopeStatus } from '../../contract/scopes.js';
import { SYNC_COLUMNS } from './descriptors.js';
import type { EngineContext } from './sync/context.js';
import { evictScope, listSubscriptions, prepareSubscription, scopeRoots } from './sync/scopes.js';
import { RUNTIME_TABLES, type SyncScopeRecord, type SyncStateRecord } from './tables.js';

export type { ScopeStatus };

/** One subscription as the app sees it. */
export interface ScopeSubscription {
  /** The scope root's entity, e.g. `Project`. */
  entity: string;
  /** The root record's local id. */
  id: string;
  /** Its server id, once known. */
  serverId: string | null;
  /** `active`; `removing` while records with unsynced changes wait to be pushed; `revoked` when the server no longer lets this user read the root. */
  status: ScopeStatus;
}

export class ScopeSubscriptions<Root extends string = string> {
  constructor(private readonly ctx: EngineContext) {}

  /** The entities that are scope roots. */
  roots(): Root[] {
    return scopeRoots(this.ctx.entities) as Root[];
  }

  /**
   * Subscribes to the root record `id` (its local id or its server id); idempotent.
   * Re-adding a revoked or removing subscription makes it active again (its records
   * are pulled again from the beginning).
   */
  async add(root: Root, id: string): Promise<ScopeSubscription> {
    const record = await this.findRoot(root, id);
    const serverId = (record._raw as unknown as Record<string, unknown>)[SYNC_COLUMNS.serverId];
    const sid = typeof serverId === 'string' && serverId ? serverId : null;
    const existing = await this.find(root, record.id);
    const ctx = this.ctx;
    const sub = await ctx.database.write(async () => {
      if (existing?.status === 'active') return existing;
      if (existing) {
        // Its position (if any) would skip what was evicted: the scope is pulled again from the beginning.
        const states = existing.serverId
          ? await ctx.database.get<SyncStateRecord>(RUNTIME_TABLES.syncState).query(Q.where('scope', existing.serverId)).fetch()
          : [];
        await ctx.database.batch(
          ...states.map((s) => s.prepareDestroyPermanently()),
          existing.prepareUpdate((s) => {
            s._setRaw('status', 'active');
            if (sid) s._setRaw('server_id', sid);
          }),
        );
        return existing;
      }
      const created = prepareSubscription(ctx, root, record.id, sid);
      await ctx.database.batch(created);
      return created;
    }, 'trackhub:addScope');
    return view(sub);
  }

  /** Unsubscribes from the root record `id` (local or server id) and evicts its records (see above). No-op when not subscribed. */
  async remove(root: Root, id: string): Promise<void> {
    this.assertRoot(root);
    const subs = await listSubscriptions(this.ctx, { root });
    const sub = subs.find((s) => s.recordId === id) ?? subs.find((s) => s.serverId === id);
    if (!sub) return;
    await evictScope(this.ctx, sub, 'remove');
  }

  /** The subscriptions (of one root entity), oldest first. */
  async list(root?: Root): Promise<ScopeSubscription[]> {
    if (root !== undefined) this.assertRoot(root);
    return (await listSubscriptions(this.ctx, root ? { root } : {})).map(view);
  }

  private assertRoot(root: string): void {
    const roots = this.roots();
    if (!roots.includes(root as Root)) {
      throw new Error(
        `${root} is not a scope root: ` +
          (roots.length ? `subscribe to one of ${roots.join(', ')}` : 'no entity of this client is synced by scope (@sync(scope: ...))'),
      );
    }
  }

  private async findRoot(root: Root, id: string) {
    this.assertRoot(root);
    const collection = this.ctx.collection(this.ctx.entity(root));
    const [byLocal] = await collection.query(Q.where('id', id)).fetch();
    const [record] = byLocal ? [byLocal] : await collection.query(Q.where(SYNC_COLUMNS.serverId, id)).fetch();
    if (!record) throw new Error(`No ${root} with id "${id}" on this device: pull ${root} first (the roots sync tenant-wide)`);
    return record;
  }

  private async find(root: string, recordId: string): Promise<SyncScopeRecord | undefined> {
    return (await listSubscriptions(this.ctx, { root })).find((s) => s.recordId === recordId);
  }
}

function view(sub: SyncScopeRecord): ScopeSubscription {
  return { entity: sub.entity, id: sub.recordId, serverId: sub.serverId, status: sub.status };
}
