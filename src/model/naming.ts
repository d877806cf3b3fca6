/** Name conversions shared by every emitter, so both sides agree on every name. */

export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export const camelCase = (name: string): string =>
  words(name)
    .map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1)))
    .join('');
export const pascalCase = (name: string): string =>
  words(name)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
export const snakeCase = (name: string): string => words(name).join('_');
export const kebabCase = (name: string): string => words(name).join('-');

const O_PLURAL_S = new Set(['photo', 'piano', 'memo', 'logo', 'halo', 'auto', 'kilo', 'pro', 'demo', 'info']);

export function pluralize(word: string): string {
  const last = words(word).pop() ?? word;
  if (/[^aeiou]o$/i.test(word) && !O_PLURAL_S.has(last)) return word + 'es';
  if (/[^aeiou]y$/i.test(word)) return word.slice(0, -1) + 'ies';
  if (/(s|x|z|ch|sh)$/i.test(word)) return word + 'es';
  return word + 's';
}

/**
 * Identifiers a generated file may import or rely on (NestJS, WatermelonDB, the
 * runtime, TypeScript's globals) and GraphQL's own type names. An entity whose
 * class names (`<Name>`, `<Name>Page`, `<Name>CreateInput`, ...) would be one of
 * them gets the class and GraphQL type name `<Name>Item` instead; its entity name on
 * the wire, its table and its Prisma delegate do not change.
 * test/emitters/names.test.ts checks that every template import is listed here.
 */
export const RESERVED_IDENTIFIERS: ReadonlySet<string> = new Set([
  // @nestjs/common, @nestjs/graphql, @nestjs/apollo, @nestjs/core
  'APP_FILTER', 'ApolloDriver', 'ApolloDriverConfig', 'Args', 'Context', 'DynamicModule', 'Field', 'Float', 'GraphQLModule', 'ID', 'Inject',
  'Injectable', 'InputType', 'Int', 'Module', 'Mutation', 'ObjectType', 'Query', 'Resolver', 'registerEnumType',
  // @nozbe/watermelondb
  'Database', 'Model', 'Relation', 'appSchema', 'associations', 'tableSchema', 'schemaMigrations', 'createTable', 'addColumns',
  // trackhub-gen runtime (server and client)
  'AppModule', 'CrudService', 'EntityDescriptor', 'EntityHooks', 'GraphQLDateTime', 'GraphQLJSON', 'JsonValue', 'MediaOptions', 'ModelClass',
  'OfflineFirstClient', 'OfflineFirstService', 'Principal', 'PrismaLike', 'SyncedRecord', 'TenantDatabaseOptions', 'TokenVerifier', 'TrackhubClient',
  'TrackhubConnectionOptions', 'TrackhubContext', 'TrackhubCore', 'TrackhubErrorFilter', 'createTrackhubContext', 'TrackhubModule', 'TrackhubModuleOptions', 'DatabaseOptions',
  'createDatabase', 'createClient', 'createTenantDatabase', 'entityDescriptors', 'migrations', 'modelClasses', 'operationSources', 'pathToFileURL', 'schema',
  'startTrackhubServer', 'syncDescriptors', 'verifyToken', 'verifierFromEnv', 'ClientHooks', 'ClientHooksByEntity', 'hooksByEntity', 'date', 'field', 'json', 'jsonValue', 'relation', 'readonly', 'text',
  // the files `init` writes (server/prisma.ts, server/sync.module.ts)
  'PrismaClient', 'prisma', 'SyncModule',
  // TypeScript / JavaScript globals the generated code uses
  'Array', 'BigInt', 'Boolean', 'Date', 'Error', 'Function', 'JSON', 'Map', 'Math', 'Number', 'Object', 'Omit', 'Partial', 'Pick', 'Promise',
  'Readonly', 'Record', 'RegExp', 'Required', 'Set', 'String', 'Symbol', 'NonNullable',
  // GraphQL's own and the contract's type names
  'Subscription', 'DateTime', 'ConflictPayload', 'SyncPullResponse', 'SyncResultItem',
]);

/** Suffixes generated code appends to an entity's class name. */
const CLASS_SUFFIXES = ['', 'Page', 'CreateInput', 'UpdateInput', 'Service', 'Resolver', 'Module', 'Record'];

/** The TypeScript class and GraphQL type name of an entity (see RESERVED_IDENTIFIERS). */
export function typeNameOf(model: string): string {
  return CLASS_SUFFIXES.some((s) => RESERVED_IDENTIFIERS.has(model + s)) ? `${model}Item` : model;
}

/** The Prisma client's delegate of a model: its name with a lower-case first letter (`APIKey` -> `aPIKey`). */
export function prismaDelegate(model: string): string {
  return model[0].toLowerCase() + model.slice(1);
}
