/**
 * What the sync phases (push, pull, apply-remote, conflicts, force modes) need of
 * the engine: its database, queue, transport, entities, options and counters.
 * SyncEngine implements it; the phases are functions of it.
 */
import type { Collection, Database } from '@nozbe/watermelondb';

import type { EntityDescriptor } from '../descriptors.js';
import type { OperationQueue } from '../queue.js';
import type { GraphQLTransport } from '../transport.js';
import type { AnyModel, SyncEngineOptions, SyncMetrics } from './types.js';

export interface EngineContext {
  readonly database: Database;
  readonly transport: GraphQLTransport;
  readonly queue: OperationQueue;
  readonly entities: EntityDescriptor[];
  readonly metrics: SyncMetrics;
  readonly options: SyncEngineOptions;
  /** Items per syncPush call. */
  readonly pushBatchSize: number;
  /** `limit` per syncPull page. */
  readonly pullLimit: number;
  /** The entity by model name (throws for an unknown one). */
  entity(name: string): EntityDescriptor;
  /** Whether `name` is a synced entity of this client. */
  hasEntity(name: string): boolean;
  collection(entity: EntityDescriptor): Collection<AnyModel>;
}
