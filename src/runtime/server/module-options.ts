import type { ApolloDriverConfig } from '@nestjs/apollo';

import type { TrackhubOptions } from './core.js';
import type { MediaOptions } from './media/http.js';

/** Options of the generated `TrackhubModule.forRoot(...)`. */
export interface TrackhubModuleOptions extends TrackhubOptions {
  /** Where to write the printed SDL, or true (default) to keep it in memory. */
  autoSchemaFile?: string | true;
  /** GraphQL endpoint path (default '/graphql'). */
  path?: string;
  /** Extra Apollo driver options, merged last (driver, schema and context excluded). */
  apollo?: Omit<ApolloDriverConfig, 'driver' | 'autoSchemaFile' | 'sortSchema' | 'context' | 'path'>;
  /** Uploads of `@sync.media` fields: storage, limits, URLs (used when an entity has a media field). */
  media?: MediaOptions;
}
