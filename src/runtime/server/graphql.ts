/**
 * GraphQL types of the sync protocol (PRODUCT.md, exactly, plus the optional
 * `cursor` and the partial-sync additions), and the scalars generated code uses.
 *
 * Always use these scalar instances (not the @nestjs/graphql built-in Date
 * scalar): one `DateTime` and one `JSON` per schema.
 */
import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';

export { GraphQLDateTime, GraphQLJSON };

@ObjectType('ConflictPayload')
export class ConflictPayload {
  @Field(() => GraphQLJSON, { nullable: true })
  serverData!: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  clientData!: unknown;

  @Field(() => Int, { nullable: true })
  serverVersion!: number | null;

  @Field(() => GraphQLJSON, { nullable: true })
  resolutionSuggested!: unknown;
}

@ObjectType('SyncRemoval')
export class SyncRemoval {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  clientId!: string | null;
}

@ObjectType('SyncPullResponse')
export class SyncPullResponse {
  @Field(() => [GraphQLJSON])
  items!: unknown[];

  @Field(() => GraphQLDateTime)
  lastSyncAt!: Date;

  @Field(() => Boolean)
  hasMore!: boolean;

  @Field(() => String, { nullable: true })
  cursor!: string | null;

  /** Records that left this stream's selection since the cursor (partial sync, read rules): the device drops them. */
  @Field(() => [SyncRemoval])
  removals!: SyncRemoval[];

  /** The scope root is not (or no longer) visible to the caller: the device evicts the scope. */
  @Field(() => Boolean)
  scopeRevoked!: boolean;

  /** The read rules changed since the cursor: the answer starts from the beginning, and the device drops what it does not receive. */
  @Field(() => Boolean)
  reset!: boolean;
}

@ObjectType('SyncResultItem')
export class SyncResultItem {
  @Field(() => String, { nullable: true })
  clientId!: string | null;

  @Field(() => ID, { nullable: true })
  id!: string | null;

  @Field(() => Boolean)
  success!: boolean;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  @Field(() => ConflictPayload, { nullable: true })
  conflict!: ConflictPayload | null;

  @Field(() => Int, { nullable: true })
  version!: number | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  updatedAt!: Date | null;
}
