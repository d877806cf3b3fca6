/**
 * GraphQL operation and input names of the contract: the server's resolvers
 * declare them, the SDL and the typed operations list them, the client runtime
 * sends them. No imports.
 */

export const SYNC_PULL = 'syncPull';
export const SYNC_PUSH = 'syncPush';

export interface OnlineOperationNames {
  /** Query of one record, e.g. `space`. */
  get: string;
  /** Query of a page, e.g. `spaces`. */
  list: string;
  create: string;
  update: string;
  delete: string;
  createInput: string;
  updateInput: string;
  page: string;
}

/**
 * Online CRUD names of an entity: `create<Name>(input: <TypeName>CreateInput!)` and so on.
 * `name` is the model name, `typeName` its GraphQL type name (the model name unless it
 * collides with a reserved identifier), `single` / `plural` the query names.
 */
export function onlineOperationNames(name: string, typeName: string, single: string, plural: string): OnlineOperationNames {
  return {
    get: single,
    list: plural,
    create: `create${name}`,
    update: `update${name}`,
    delete: `delete${name}`,
    createInput: `${typeName}CreateInput`,
    updateInput: `${typeName}UpdateInput`,
    page: `${typeName}Page`,
  };
}
