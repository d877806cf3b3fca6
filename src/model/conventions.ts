/**
 * The data conventions of a @sync model (PRODUCT.md, "Data Conventions") in one
 * place: the validator checks them, `fix-schema` adds what is missing.
 */
import type { Datamodel, DmmfModel } from '../schema/prisma-wasm.js';

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

export function hasClientUnique(model: DmmfModel, tenant: string | null): boolean {
  const key = clientUniqueKey(tenant);
  const sameSet = (u: string[]) => u.length === key.length && u.every((x) => key.includes(x));
  const clientIdUnique = model.fields.find((f) => f.name === 'clientId')?.isUnique === true;
  return model.uniqueFields.some(sameSet) || (key.length === 1 && clientIdUnique);
}

export function hasPullIndex(datamodel: Datamodel, model: DmmfModel, tenant: string | null): boolean {
  const prefix = pullIndexPrefix(tenant);
  return datamodel.indexes.some(
    (i) => i.model === model.name && (i.type === 'normal' || i.type === 'unique') && prefix.every((f, k) => i.fields[k]?.name === f),
  );
}
