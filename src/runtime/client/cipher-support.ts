/**
 * Where encrypted databases are supported: the platform entry registers an
 * implementation (Node: `sqlite-cipher.ts`, SQLCipher files through
 * better-sqlite3-multiple-ciphers), so the browser and React Native bundles
 * never contain the Node code. Elsewhere the calls say where to look.
 */
import type { Database } from '@nozbe/watermelondb';

import type { EncryptionOptions, KeyStore } from './encryption.js';

export interface CipherSupport {
  /** Resolves the tenant's key and readies its file (see sqlite-cipher.ts). */
  prepare(options: { keyStore: KeyStore; tenantId: string; dbDir: string }): Promise<EncryptionOptions>;
  /** Throws `EncryptionKeyError` unless `key` opens the file (an absent file is fine). */
  assertOpensWith(dbName: string, key: string): void;
  /** Makes the SQLite driver open `dbName` with `key`. */
  register(dbName: string, key: string): void;
  unregister(dbName: string): void;
  /** Re-keys an open database; resolves with the new key. */
  rekey(database: Database, keyStore: KeyStore, tenantId: string, dbName: string): Promise<string>;
}

let registered: CipherSupport | null = null;

/** Set once by the platform entry (`node`). */
export function setCipherSupport(support: CipherSupport | null): void {
  registered = support;
}

export function cipherSupport(): CipherSupport {
  if (!registered) {
    throw new Error(
      'Encrypted tenant databases are supported in Node here (the node entry of trackhub-gen/runtime/client). ' +
        'On React Native and in the browser see docs/encryption.md.',
    );
  }
  return registered;
}

/**
 * Resolves the tenant's key and readies its database file before `createClient`
 * opens it: a new database gets a new key, a plain one is encrypted in place, a
 * cut-off key rotation is finished. A wrong or missing key is an `EncryptionKeyError`,
 * and the file is left as it is.
 */
export function prepareEncryption(options: { keyStore: KeyStore; tenantId: string; dbDir: string }): Promise<EncryptionOptions> {
  return cipherSupport().prepare(options);
}
