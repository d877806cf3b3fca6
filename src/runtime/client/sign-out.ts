/**
 * Signing out of a tenant on this device: refuse while changes or uploads are
 * not yet synced (unless the caller discards them on purpose), then wipe the
 * tenant's database, close it, delete its files and its waiting blobs, and
 * leave nothing of the tenant on the device.
 *
 * What "its files" are, per platform:
 *   - Node (SQLite file): `<dbDir>/trackhub_db_{tenantId}.db` and its `-wal`,
 *     `-shm` and `-journal` companions, deleted after the connection is closed;
 *   - browser (LokiJS on IndexedDB): the tenant's IndexedDB databases
 *     `trackhub_db_{tenantId}` and `trackhub_blobs_{tenantId}`;
 *   - React Native and custom adapters: the database is wiped through
 *     WatermelonDB (`unsafeResetDatabase`); pass `removeFiles` to delete the
 *     file where your adapter keeps it.
 * Files the app passed by path to `attach<Field>` are the app's and are left alone.
 */
import type { Database } from '@nozbe/watermelondb';

import { nodeFs } from './node-builtins.js';

/** Sign-out was refused: something of the tenant is not on the server yet. */
export class UnsyncedChangesError extends Error {
  override name = 'UnsyncedChangesError';
  constructor(
    /** Operations waiting in the queue (pending, failed, given up or in conflict). */
    readonly changes: number,
    /** Uploads not yet done. */
    readonly uploads: number,
  ) {
    const parts = [
      ...(changes > 0 ? [`${changes} change${changes === 1 ? '' : 's'}`] : []),
      ...(uploads > 0 ? [`${uploads} upload${uploads === 1 ? '' : 's'}`] : []),
    ];
    super(
      `Sign-out refused: ${parts.join(' and ')} ${changes + uploads === 1 ? 'is' : 'are'} not synced yet. ` +
        'Sync first (client.syncAll(), client.uploads.process()), or call signOut({ discardUnsynced: true }) to drop them.',
    );
  }
}

export interface SignOutOptions {
  /** Sign out even though changes or uploads are not synced: they are lost. */
  discardUnsynced?: boolean;
  /** Deletes the database file of a custom adapter (React Native: e.g. with react-native-fs). */
  removeFiles?: () => void | Promise<void>;
}

export interface SignOutReport {
  /** Unsynced changes and uploads that were dropped (0 unless `discardUnsynced`). */
  discarded: { changes: number; uploads: number };
  /** Files and IndexedDB databases deleted. */
  removed: string[];
}

/** Node's SQLite files of a database name (`<dir>/trackhub_db_x.db`), those that exist. */
export function sqliteFilesOf(dbName: string): string[] {
  const fs = nodeFs();
  if (!fs || !dbName.endsWith('.db')) return [];
  return ['', '-wal', '-shm', '-journal'].map((suffix) => dbName + suffix).filter((file) => fs.existsSync(file));
}

/**
 * Closes the better-sqlite3 connection behind WatermelonDB's Node SQLite adapter
 * (WatermelonDB has no public close). Returns false where there is none (other
 * adapters, other platforms).
 */
export function closeNodeSqlite(database: Database): boolean {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const nodeModule = getBuiltin?.('node:module') as { createRequire(from: string): (id: string) => unknown } | undefined;
  if (!nodeModule) return false;
  let bridge: { connections: Record<string, { driver?: { database?: { instance?: { close(): void } } } }> } | undefined;
  try {
    const required = nodeModule.createRequire(import.meta.url)('@nozbe/watermelondb/adapters/sqlite/sqlite-node/DatabaseBridge') as {
      default?: typeof bridge;
    };
    bridge = required.default;
  } catch {
    return false;
  }
  const tag = (database.adapter as unknown as { underlyingAdapter?: { _tag?: string } }).underlyingAdapter?._tag;
  const connection = tag !== undefined ? bridge?.connections[tag] : undefined;
  const instance = connection?.driver?.database?.instance;
  if (!instance || tag === undefined) return false;
  instance.close();
  delete bridge!.connections[tag];
  return true;
}

/** Deletes an IndexedDB database (browser). Resolves with whether it was deleted. */
export function deleteIndexedDb(name: string): Promise<boolean> {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = factory.deleteDatabase(name);
    req.onsuccess = () => resolve(true);
    req.onerror = () => resolve(false);
    // Another tab still has it open: it is deleted once that tab closes it.
    req.onblocked = () => resolve(false);
  });
}

/** Wipes every table of the database in one writer (any adapter). */
export async function wipeDatabase(database: Database): Promise<void> {
  await database.write(() => database.unsafeResetDatabase(), 'trackhub:signOut');
}

/** Deletes files (Node); returns those deleted. */
export function removeFiles(files: string[]): string[] {
  const fs = nodeFs();
  if (!fs) return [];
  const removed: string[] = [];
  for (const file of files) {
    fs.rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}
