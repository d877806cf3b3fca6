/**
 * The server's sync clock model: one definition for the runtime (sync-clock.ts)
 * and the generator (fix-schema adds the model). No dependencies.
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

