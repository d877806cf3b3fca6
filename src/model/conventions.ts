/**
 * The data conventions of a @sync model (PRODUCT.md, "Data Conventions") in one
 * place: the validator checks them, `fix-schema` adds what is missing.
 */
import type { Datamodel, DmmfModel } from '../schema/prisma-wasm.js';

/** The unique that makes creates idempotent: (tenant, clientId), or (clientId) for a global entity. */
export function clientUniqueKey(tenant: string | null): string[] {
  return tenant ? [tenant, 'clientId'] : ['clientId'];
}

/** Leading columns of the index serving the pull order (then `id`). */
export function pullIndexPrefix(tenant: string | null): string[] {
  return tenant ? [tenant, 'updatedAt'] : ['updatedAt'];
}

export function hasClientUnique(model: DmmfModel, tenant: string | null): boolean {
  const key = clientUniqueKey(tenant);
  const sameSet = (u: string[]) => u.length === key.length && u.every((x) => key.includes(x));
  const clientIdUnique = model.fields.find((f) => f.name === 'clientId')?.isUnique === true;
  return model.uniqueFields.some(sameSet) || (!tenant && clientIdUnique);
}

export function hasPullIndex(datamodel: Datamodel, model: DmmfModel, tenant: string | null): boolean {
  const prefix = pullIndexPrefix(tenant);
  return datamodel.indexes.some(
    (i) => i.model === model.name && (i.type === 'normal' || i.type === 'unique') && prefix.every((f, k) => i.fields[k]?.name === f),
  );
}
