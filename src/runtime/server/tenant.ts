/**
 * The caller's tenant as queries see it: the tenant field's value and the `where`
 * that scopes a query to it. No imports but types.
 */
import type { Principal } from './auth.js';
import type { Row } from './prisma.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The caller's tenant as the tenant field stores it (an `Int` tenant field gets a number). */
export function tenantValue(d: { tenantKind?: 'String' | 'Int' }, principal: Principal): string | number {
  if (d.tenantKind !== 'Int') return principal.tenantId;
  const n = Number(principal.tenantId);
  // A token whose tenant is not a 32-bit integer matches no row of an Int-tenant table
  // (the smallest Int, which no tenant id is: Prisma's Int is 32-bit, so any other out-of-range value would fail the query).
  return /^-?\d+$/.test(principal.tenantId) && n > INT32_MIN && n <= INT32_MAX ? n : INT32_MIN;
}

/**
 * `where` scoping a query to the caller's tenant (nothing for a global entity).
 * A model that is its own tenant (`tenantField: 'id'`) is scoped under `AND`, so that
 * a query's own `id` condition (`{ ...scope, id }`) narrows it instead of replacing it.
 */
export function tenantScope(d: { tenantField: string | null; tenantKind?: 'String' | 'Int' }, principal: Principal): Row {
  if (!d.tenantField) return {};
  const own = { [d.tenantField]: tenantValue(d, principal) };
  return d.tenantField === 'id' ? { AND: [own] } : own;
}

