/**
 * GraphQL operation and input names of the contract: the server's resolvers
 * declare them, the SDL and the typed operations list them, the client runtime
 * sends them. No imports.
 */

export const SYNC_PULL = 'syncPull';
export const SYNC_PUSH = 'syncPush';

/** Online CRUD mutations of an entity: `create<Name>`, `update<Name>`, `delete<Name>` (`name` is the model name). */
export function mutationNames(name: string): { create: string; update: string; delete: string } {
  return { create: `create${name}`, update: `update${name}`, delete: `delete${name}` };
}

/** Input types of those mutations (`typeName` is the entity's GraphQL type name: the model name unless reserved). */
export function inputTypeNames(typeName: string): { create: string; update: string } {
  return { create: `${typeName}CreateInput`, update: `${typeName}UpdateInput` };
}
