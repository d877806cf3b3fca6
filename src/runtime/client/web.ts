/**
 * trackhub-gen/runtime/client/web: WatermelonDB's LokiJS adapter persisted in
 * IndexedDB (incremental IndexedDB), one IndexedDB database per tenant
 * (`trackhub_db_{tenantId}`), for browser apps.
 */
import * as LokiJSAdapterModule from '@nozbe/watermelondb/adapters/lokijs/index.js';

import type { AdapterFactory } from './database.js';
import { unwrapDefault } from './watermelon.js';

export const LokiJSAdapter = unwrapDefault(LokiJSAdapterModule.default);

export interface WebAdapterOptions {
  /** Run LokiJS in a web worker (default false: WatermelonDB recommends the main thread with incremental IndexedDB). */
  useWebWorker?: boolean;
  /** Called when IndexedDB is full. */
  onQuotaExceededError?: (error: unknown) => void;
  /** Called when the database cannot be set up. */
  onSetUpError?: (error: Error) => void;
  /** Another tab deleted or replaced the database: reload the page or sign out. */
  onversionchange?: () => void;
}

/** An adapter factory for `createClient({ adapter })` in the browser. */
export function webAdapter(options: WebAdapterOptions = {}): AdapterFactory {
  return (database) =>
    new LokiJSAdapter({
      dbName: database.dbName,
      schema: database.schema,
      ...(database.migrations ? { migrations: database.migrations } : {}),
      useWebWorker: options.useWebWorker ?? false,
      useIncrementalIndexedDB: true,
      ...(options.onQuotaExceededError ? { onQuotaExceededError: options.onQuotaExceededError } : {}),
      ...(options.onSetUpError ? { onSetUpError: options.onSetUpError } : {}),
      ...(options.onversionchange ? { extraIncrementalIDBOptions: { onversionchange: options.onversionchange } } : {}),
    });
}

/** What the browser network monitor drives: a SyncWorker, or anything with `setOnline`. */
export interface OnlineTarget {
  setOnline(online: boolean): void;
}

export interface BrowserNetworkOptions {
  /** Where `online` / `offline` events fire (default `window`). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Reads the current state (default `navigator.onLine`). */
  isOnline?: () => boolean;
}

/**
 * Wires the browser's network state into a SyncWorker: sets it from
 * `navigator.onLine` now, then follows the `online` / `offline` events (coming
 * back online syncs at once). Returns a function that stops listening.
 *
 *   const stop = browserNetworkMonitor(worker);
 */
export function browserNetworkMonitor(target: OnlineTarget, options: BrowserNetworkOptions = {}): () => void {
  const events = options.events ?? (globalThis as { window?: EventTarget }).window;
  const isOnline = options.isOnline ?? (() => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false);
  if (!events) throw new Error('browserNetworkMonitor: no window here; pass options.events (or call worker.setOnline yourself)');
  const update = (): void => target.setOnline(isOnline());
  const online = (): void => target.setOnline(true);
  const offline = (): void => target.setOnline(false);
  events.addEventListener('online', online);
  events.addEventListener('offline', offline);
  update();
  return () => {
    events.removeEventListener('online', online);
    events.removeEventListener('offline', offline);
  };
}

export interface TabOwnership {
  /** Gives the database up (e.g. on sign-out); the next waiting tab takes it. */
  release(): void;
}

/**
 * Several tabs on one tenant: one tab owns the tenant's database at a time.
 * LokiJS keeps the whole database in the tab's memory and writes it back to
 * IndexedDB, so two tabs writing at once would overwrite each other. This takes
 * the Web Lock `trackhub_db_{tenantId}`: it resolves once this tab holds it (at
 * once for the first tab); until then `onWaiting` is called, and the tab must not
 * open the database (show "open in another tab"). When the owner closes, the
 * browser releases its lock and the longest-waiting tab gets it, then opens the
 * database and reads everything the owner saved. Without the Web Locks API it
 * resolves at once (one tab assumed).
 *
 *   await ownTenantDatabase(tenantId, { onWaiting: () => showBanner('open in another tab') });
 *   const client = createClient({ tenantId, url, adapter: webAdapter() });
 */
export async function ownTenantDatabase(
  tenantId: string,
  options: { onWaiting?: () => void; locks?: LockManager } = {},
): Promise<TabOwnership> {
  const locks = options.locks ?? (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return { release: () => {} };
  const name = `trackhub_db_${tenantId}`;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const acquired = await new Promise<boolean>((resolve, reject) => {
    // Try without waiting first, to know whether to tell the user.
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return held;
      })
      .catch(reject);
  });
  if (!acquired) {
    options.onWaiting?.();
    await new Promise<void>((resolve, reject) => {
      locks
        .request(name, () => {
          resolve();
          return held;
        })
        .catch(reject);
    });
  }
  return { release };
}
