/**
 * The data conventions of a @sync model (PRODUCT.md, "Data Conventions") in one
 * place: the validator checks them, `fix-schema` adds what is missing. The pure
 * names are in contract/conventions.ts; these read the Prisma datamodel.
 */
import { clientUniqueKey, pullIndexPrefix, SELF_TENANT } from '../contract/conventions.js';
import type { Datamodel, DmmfModel } from './prisma-wasm.js';

export { clientUniqueKey, pullIndexPrefix, SELF_TENANT };

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
