/**
 * The data conventions of a @sync model (PRODUCT.md, "Data Conventions") that are
 * pure names: the validator checks them, `fix-schema` adds what is missing. No imports.
 */

/** `tenant: "id"`: the model is its own tenant (a Team scoped to itself: each tenant sees its own row). */
export const SELF_TENANT = 'id';

/** The tenant field that scopes a table by a column of its own (not for a global or self-tenant model). */
const scopingColumn = (tenant: string | null): string | null => (tenant && tenant !== SELF_TENANT ? tenant : null);

/** The unique that makes creates idempotent: (tenant, clientId), or (clientId) for a global or self-tenant entity. */
export function clientUniqueKey(tenant: string | null): string[] {
  const t = scopingColumn(tenant);
  return t ? [t, 'clientId'] : ['clientId'];
}

/** Leading columns of the index serving the pull order (then `id`). */
export function pullIndexPrefix(tenant: string | null): string[] {
  const t = scopingColumn(tenant);
  return t ? [t, 'updatedAt'] : ['updatedAt'];
}
