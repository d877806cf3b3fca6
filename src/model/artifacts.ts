/**
 * Names and field rules every emitter shares, computed once per entity / field,
 * so the server, the client, the SDL and the typed operations cannot disagree.
 */
import { inputTypeNames, mutationNames } from '../contract/operations.js';
import type { EntityIR, FieldIR } from './types.js';

/** A create must carry the field: not nullable and no default. */
export function requiredOnCreate(field: Pick<FieldIR, 'optional' | 'hasDefault'>): boolean {
  return !field.optional && !field.hasDefault;
}

/** An update may change the field (a `@sync.readonly` field is set on create only). */
export function updatable(field: Pick<FieldIR, 'access'>): boolean {
  return field.access !== 'readonly';
}

export interface EntityArtifacts {
  /** Online CRUD mutations (`create<Name>`, ...). */
  mutations: { create: string; update: string; delete: string };
  /** Their input types (`<TypeName>CreateInput`, ...). */
  inputs: { create: string; update: string };
  /** Typed online operations of the client (`Get<Name>`, `List<Plural>`, `Create<Name>`). */
  operations: { get: string; list: string; create: string };
  /** The client's typed service class. */
  serviceClass: string;
  /** Server files `server/generated/<dir>.{model,service,...}.ts`. */
  serverDir: string;
}

export function artifactsOf(entity: Pick<EntityIR, 'name' | 'typeName' | 'kebab' | 'plural'>): EntityArtifacts {
  const pluralPascal = entity.plural.charAt(0).toUpperCase() + entity.plural.slice(1);
  return {
    mutations: mutationNames(entity.name),
    inputs: inputTypeNames(entity.typeName),
    operations: { get: `Get${entity.name}`, list: `List${pluralPascal}`, create: `Create${entity.name}` },
    serviceClass: `OfflineFirst${entity.name}Service`,
    serverDir: `${entity.kebab}/${entity.kebab}`,
  };
}
