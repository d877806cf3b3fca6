import { watermelonLogger } from './watermelon.js';

const noop = (): void => {};
let original: { log: (...m: unknown[]) => void; debug: (...m: unknown[]) => void } | null = null;

/**
 * Silences WatermelonDB's informational chatter ("Setting up database...")
 * while keeping its warnings and errors. Never uses `logger.silence()`, which
 * would hide errors too.
 */
export function quietWatermelonLogs(quiet = true): void {
  if (quiet) {
    if (!original) original = { log: watermelonLogger.log, debug: watermelonLogger.debug };
    watermelonLogger.log = noop;
    watermelonLogger.debug = noop;
  } else if (original) {
    watermelonLogger.log = original.log;
    watermelonLogger.debug = original.debug;
    original = null;
  }
}
