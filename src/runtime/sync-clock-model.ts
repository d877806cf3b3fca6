/**
 * The server's own models (the sync clock; the scope move log of partial sync):
 * one definition for the runtime (sync-clock.ts, scope-moves.ts) and the generator
 * (fix-schema adds them). No dependencies.
 */
/** The Prisma model that keeps the pull order (one row per entity and tenant). */
export const SYNC_CLOCK_MODEL = 'TrackhubSyncClock';
export const SYNC_CLOCK_DELEGATE = 'trackhubSyncClock';
/** Its database table. */
export const SYNC_CLOCK_TABLE = 'trackhub_sync_clock';

/** The model's Prisma source, as `fix-schema` adds it and the README shows it. */
export const SYNC_CLOCK_PRISMA = `/// trackhub-gen: the pull order of each synced entity per tenant (last stamp; locked by each write until it commits).
model ${SYNC_CLOCK_MODEL} {
  scope String   @id
  stamp DateTime

  @@map("${SYNC_CLOCK_TABLE}")
}
`;


/** The Prisma model that logs records leaving a scope (partial sync), read by later pulls as removals. */
export const SCOPE_MOVE_MODEL = 'TrackhubScopeMove';
export const SCOPE_MOVE_DELEGATE = 'trackhubScopeMove';
export const SCOPE_MOVE_TABLE = 'trackhub_scope_move';

/** Its Prisma source, as `fix-schema` adds it when a model declares `@sync(scope: ...)`. */
export const SCOPE_MOVE_PRISMA = `/// trackhub-gen: records that left a sync scope (moved under another root), pulled by devices as removals.
model ${SCOPE_MOVE_MODEL} {
  id       Int      @id @default(autoincrement())
  scope    String
  root     String
  recordId String
  clientId String?
  stamp    DateTime

  @@index([scope, root, stamp])
  @@map("${SCOPE_MOVE_TABLE}")
}
`;
