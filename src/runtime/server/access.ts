/**
 * Row-level read rules (the entities' `read` hooks), resolved once per request.
 *
 * An entity's readable rows: its own rule's `where`, and, for an entity synced by
 * scope, readable parents all the way along its scope path up to the root. Entities without rules anywhere on
 * that chain are unrestricted within the tenant and cost nothing.
 *
 * `bindAccess` returns the principal carrying the resolved wheres for the entities a
 * request touches; `readScope(d, principal)` is what every read of existing rows of a
 * pull, a push and the online CRUD then uses in place of the tenant scope alone.
 */
import { createHash } from 'node:crypto';

import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import type { ReadRule } from './hooks.js';
import type { Row } from './prisma.js';
import type { EntityRegistry } from './registry.js';
import { tenantScope } from './tenant.js';

/** One entity's resolved read access: the `where` (null when unrestricted) and its fingerprint. */
export interface Access {
  where: Row | null;
  fingerprint: string | null;
  /**
   * For an entity synced by scope, the same without the root's own rule: what a pull of
   * one scope applies once it has checked that the root itself is readable.
   */
  withinScope: { where: Row | null; fingerprint: string | null };
}

const UNRESTRICTED: Access = { where: null, fingerprint: null, withinScope: { where: null, fingerprint: null } };

const ACCESS = Symbol('trackhub.access');

type BoundPrincipal = Principal & { readonly [ACCESS]?: ReadonlyMap<string, Access> };

/**
 * Resolves the read access of `entities` for `principal`: each entity's own rule and,
 * for an entity synced by scope, the rules of every model on its scope path (a row is
 * readable only under readable parents). A rule that throws fails the request (the
 * caller reports INTERNAL).
 */
export async function bindAccess(registry: EntityRegistry, prisma: unknown, principal: Principal, entities: readonly EntityDescriptor[]): Promise<Principal> {
  const bound = new Map((principal as BoundPrincipal)[ACCESS] ?? []);
  const rules = new Map<string, ReadRule | null>();
  const ruleOf = async (name: string): Promise<ReadRule | null> => {
    if (!rules.has(name)) rules.set(name, (await registry.get(name).hooks?.read?.({ principal, entity: name, prisma })) ?? null);
    return rules.get(name)!;
  };
  const fingerprintOf = (rule: ReadRule | null): string | null => (rule ? (rule.fingerprint ?? stableJson(rule.where)) : null);
  for (const d of entities) {
    if (bound.has(d.name)) continue;
    // The models from the entity up to its root, and the relation leading to each next one.
    const chain: Array<{ name: string; via: string | null }> = [{ name: d.name, via: null }];
    for (const hop of d.scope?.hops ?? []) chain.push({ name: hop.target, via: hop.relation });
    const chainRules = await Promise.all(chain.map((c) => ruleOf(c.name)));
    const build = (upTo: number): { where: Row | null; fingerprint: string | null } => {
      // Nested from the top: where(i) = rule(i) AND <relation to i+1> is where(i+1).
      let where: Row | null = null;
      for (let i = upTo - 1; i >= 0; i--) {
        const parts: Row[] = [];
        const rule = chainRules[i];
        if (rule) parts.push(rule.where);
        if (where) parts.push({ [chain[i + 1]!.via!]: { is: where } });
        where = parts.length === 0 ? null : parts.length === 1 ? parts[0]! : { AND: parts };
      }
      const prints = chainRules.slice(0, upTo).map(fingerprintOf);
      return { where, fingerprint: prints.some((x) => x !== null) ? digest(prints) : null };
    };
    const full = build(chain.length);
    bound.set(d.name, { ...full, withinScope: d.scope ? build(chain.length - 1) : full });
  }
  if (![...bound.values()].some((a) => a.where !== null)) return principal;
  return Object.assign(Object.create(Object.getPrototypeOf(principal) as object) as Principal, principal, { [ACCESS]: bound });
}

/** The read access bound for `d` (unrestricted when nothing was bound for it). */
export function accessOf(d: { name: string }, principal: Principal): Access {
  return (principal as BoundPrincipal)[ACCESS]?.get(d.name) ?? UNRESTRICTED;
}

/** `where` of the rows of `d` this principal may read: its tenant, and its read rules when bound. */
export function readScope(d: EntityDescriptor | { name: string; tenantField: string | null; tenantKind?: 'String' | 'Int' }, principal: Principal): Row {
  const tenant = tenantScope(d, principal);
  const where = accessOf(d, principal).where;
  return where ? { AND: [tenant, where] } : tenant;
}

/** The entities whose access a write of `d` needs: itself and the targets of its relations. */
export function writeAccessEntities(registry: EntityRegistry, d: EntityDescriptor): EntityDescriptor[] {
  const out = [d];
  for (const f of d.fields) if (f.relation && f.access !== 'ignore') out.push(registry.get(f.relation.entity));
  return out;
}

function digest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted (a where's fingerprint must not depend on key order). */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
