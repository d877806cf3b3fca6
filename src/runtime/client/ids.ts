import { uuidv7 } from 'uuidv7';

import { setWatermelonIdGenerator } from './watermelon.js';

/** A new UUID v7 (time-ordered): the id of every record minted on the device. */
export function newId(): string {
  return uuidv7();
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(value: unknown): value is string {
  return typeof value === 'string' && UUID_V7.test(value);
}

let installed = false;

/**
 * Makes WatermelonDB mint UUID v7 ids for every record it creates (its default
 * is 16 random alphanumerics). Process-wide and idempotent.
 */
export function installUuidV7Ids(): void {
  if (installed) return;
  setWatermelonIdGenerator(newId);
  installed = true;
}
