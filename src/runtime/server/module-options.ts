import type { ApolloDriverConfig } from '@nestjs/apollo';

import type { TrackhubOptions } from './core.js';

/** Options of the generated `TrackhubModule.forRoot(...)`. */
export interface TrackhubModuleOptions extends TrackhubOptions {
  /** Where to write the printed SDL, or true (default) to keep it in memory. */
  autoSchemaFile?: string | true;
  /** GraphQL endpoint path (default '/graphql'). */
  path?: string;
  /** Extra Apollo driver options, merged last (driver, schema and context excluded). */
  apollo?: Omit<ApolloDriverConfig, 'driver' | 'autoSchemaFile' | 'sortSchema' | 'context' | 'path'>;
}
