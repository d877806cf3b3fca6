/**
 * The generic sync resolver: `syncPull` / `syncPush`, dispatched by entity name
 * through the registry of generated descriptors.
 */
import { Inject, type OnModuleInit } from '@nestjs/common';
import { Args, Context, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';

import { SYNC_PULL, SYNC_PUSH } from '../../contract/operations.js';
import { SYNC_PULL_SCOPE_ARG } from '../../contract/scopes.js';
import type { TrackhubContext } from './auth.js';
import { TrackhubCore } from './core.js';
import { GraphQLDateTime, GraphQLJSON, SyncPullResponse, SyncResultItem } from './graphql.js';
import type { SyncResult } from './sync.service.js';

@Resolver()
export class TrackhubSyncResolver implements OnModuleInit {
  constructor(@Inject(TrackhubCore) private readonly trackhub: TrackhubCore) {}

  /** Startup checks (e.g. no development tokens in production): a failure stops `app.listen` / `app.init`. */
  async onModuleInit(): Promise<void> {
    await this.trackhub.checkStartup();
  }

  @Query(() => SyncPullResponse, { name: SYNC_PULL })
  async syncPull(
    @Args('entity', { type: () => String }) entity: string,
    @Args('since', { type: () => GraphQLDateTime, nullable: true }) since: Date | null | undefined,
    @Args('limit', { type: () => Int, nullable: true, defaultValue: 1000 }) limit: number | null | undefined,
    @Args('cursor', { type: () => String, nullable: true }) cursor: string | null | undefined,
    @Args(SYNC_PULL_SCOPE_ARG, { type: () => ID, nullable: true }) scope: string | null | undefined,
    @Context() context: TrackhubContext,
  ): Promise<SyncPullResponse> {
    return this.trackhub.observer.pull(context, entity, async () => {
      const principal = await this.trackhub.authenticate(context);
      return this.trackhub.sync.pull(principal, entity, { since, limit, cursor, scope });
    });
  }

  @Mutation(() => [SyncResultItem], { name: SYNC_PUSH })
  async syncPush(
    @Args('entity', { type: () => String }) entity: string,
    @Args('items', { type: () => [GraphQLJSON] }) items: unknown[],
    @Context() context: TrackhubContext,
  ): Promise<SyncResult[]> {
    return this.trackhub.observer.push(context, entity, items, async () => {
      const principal = await this.trackhub.authenticate(context);
      return this.trackhub.sync.push(principal, entity, items);
    });
  }
}
