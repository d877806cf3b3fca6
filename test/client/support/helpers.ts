import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Database } from '@nozbe/watermelondb';

export function tempDir(prefix = 'trackhub-client-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const require = createRequire(import.meta.url);

/**
 * Closes the better-sqlite3 handle behind a WatermelonDB SQLite adapter in
 * Node (WatermelonDB has no public close): simulates the app process ending.
 */
export function closeNodeDatabase(database: Database): void {
  const bridgeModule = require('@nozbe/watermelondb/adapters/sqlite/sqlite-node/DatabaseBridge') as {
    default: { connections: Record<string, { driver?: { database?: { instance?: { close(): void } } } }> };
  };
  const tag = (database.adapter as unknown as { underlyingAdapter?: { _tag: string }; _tag?: string }).underlyingAdapter
    ?._tag;
  const bridge = bridgeModule.default;
  const connection = tag !== undefined ? bridge.connections[tag] : undefined;
  const instance = connection?.driver?.database?.instance;
  if (!instance) throw new Error(`No open SQLite connection for adapter tag ${String(tag)}`);
  instance.close();
  delete bridge.connections[tag!];
}

export const TOKEN_A = 'dev:tenant-a:user-1';
export const URL = 'http://stub.invalid/graphql';

/** Polls until `check` passes (real timers). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
