/**
 * Partial sync: scopes and what travels for them. No imports.
 *
 * A model annotated `/// @sync(scope: "task.project")` is synced by scope: each of
 * its rows belongs to exactly one scope root (the record reached by following the
 * path of required to-one relations), and a device that subscribed to roots pulls
 * only the rows under them. Models without a scope sync tenant-wide.
 */

/** The model option that declares a scope path: `@sync(scope: "checklist.space")`. */
export const SCOPE_OPTION = 'scope';

/** One step of a scope path: the relation field, its foreign-key field on this model, the model it leads to. */
export interface ScopeHop {
  /** Prisma relation field, e.g. `project`. */
  relation: string;
  /** The foreign-key field holding the target's id, e.g. `projectId`. */
  field: string;
  /** The `@sync` model it leads to, e.g. `Project`. */
  target: string;
}

/** Where a scoped entity's rows hang: the root entity and the hops from the entity to it. */
export interface EntityScope {
  /** The scope root's entity name (the last hop's target). */
  root: string;
  /** From the entity itself to the root, in order. */
  hops: readonly ScopeHop[];
}

/** `syncPull` argument naming the scope root (its server id) a scoped pull is limited to. */
export const SYNC_PULL_SCOPE_ARG = 'scope';

/** `syncPull` response additions. */
export const SYNC_PULL_RESPONSE_ADDITIONS = {
  /** `[SyncRemoval!]!`: records that left this stream's selection since the cursor. */
  removals: 'removals',
  /** `Boolean!`: the scope root is not (or no longer) visible to the caller. */
  scopeRevoked: 'scopeRevoked',
  /** `Boolean!`: the read rules changed since the cursor; the answer starts from the beginning. */
  reset: 'reset',
} as const;

/** GraphQL type of one removal: `type SyncRemoval { id: ID! clientId: String }`. */
export const SYNC_REMOVAL_TYPE = 'SyncRemoval';

/** One removal on the wire. */
export interface SyncRemoval {
  id: string;
  clientId: string | null;
}

/** Status of a device subscription (`sync_scopes.status`). */
export type ScopeStatus = 'active' | 'removing' | 'revoked';

/**
 * Prefix of a pull cursor that carries its stream (a scope) or the read rules' fingerprint.
 * A device rewinding such a stream cannot fall back to `since` (which carries neither):
 * it reloads the stream instead.
 */
export const STREAM_CURSOR_PREFIX = 'p2.';

/** `sync_state.server_version_hash` of a stream the device reloads and reconciles (drops what the reload does not bring). */
export const RECONCILE_MARK = 'reconcile';
