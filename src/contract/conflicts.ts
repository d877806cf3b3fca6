/** Conflict strategies of the sync contract (PRODUCT.md, "Conflict resolution"). No imports. */

export const CONFLICT_STRATEGIES = ['timestamp', 'serverWins', 'clientWins', 'merge', 'manual'] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];
