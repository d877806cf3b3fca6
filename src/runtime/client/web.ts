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
