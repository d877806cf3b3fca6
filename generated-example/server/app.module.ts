import { type DynamicModule, Module } from '@nestjs/common';
import type { MediaOptions, PrismaLike, TrackhubModuleOptions } from './generated/runtime.js';

import { verifyToken } from './auth/token-verifier.js';
import { TrackhubModule } from './generated/trackhub.module.js';

export interface AppModuleOptions {
  /** Your PrismaClient instance (any provider): `new PrismaClient({ adapter })`. */
  prisma: PrismaLike;
  /** Write the GraphQL SDL to this path (default: in memory). */
  autoSchemaFile?: string;
  /** Uploads of @sync.media fields: storage directory or MediaStorage, size and type limits. */
  media?: MediaOptions;
  /** Prometheus metrics on GET /metrics (default on; `false` = off, or `{ path, token, clientMetrics }`). */
  metrics?: TrackhubModuleOptions['metrics'];
  /** One JSON log line per sync request (`true` = stdout, or your own sink). Default off. */
  syncLog?: TrackhubModuleOptions['syncLog'];
}

/** Your application module: add your own modules next to TrackhubModule. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TrackhubModule.forRoot({
          prisma: options.prisma,
          verifyToken,
          maxBatchSize: 1000,
          ...(options.autoSchemaFile ? { autoSchemaFile: options.autoSchemaFile } : {}),
          ...(options.media ? { media: options.media } : {}),
          ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
          ...(options.syncLog !== undefined ? { syncLog: options.syncLog } : {}),
        }),
      ],
    };
  }
}
