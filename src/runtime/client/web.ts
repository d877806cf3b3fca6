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
