/**
 * Encryption at rest, one key per tenant: where keys live (`KeyStore`, yours
 * to supply: the Keychain / Keystore on a phone), how a tenant's key is created,
 * rotated and deleted, and the errors that never cost data.
 *
 * The database side is per platform:
 *   - Node: SQLCipher-compatible files through better-sqlite3-multiple-ciphers
 *     (sqlite-cipher.ts), behind WatermelonDB's SQLite adapter;
 *   - React Native: see docs/encryption.md (WatermelonDB's SQLite adapter has no
 *     key option; the route is a SQLCipher build of its native SQLite);
 *   - browser: IndexedDB is not encrypted (docs/encryption.md says what is and is not protected).
 *
 * Keys are 32 random bytes, hex. A rotation is crash-safe: the next key is stored
 * under `<tenant>.next` before the database is re-keyed, and only then becomes
 * the tenant's key; opening finishes a rotation that was cut off.
 */
import { nodeFs } from './node-builtins.js';

/** Secure storage of named secrets. On a phone: react-native-keychain (docs/encryption.md). */
export interface KeyStore {
  get(name: string): Promise<string | null>;
  set(name: string, key: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** What `createClient({ encryption })` takes: the store and the tenant's key, from `prepareEncryption`. */
export interface EncryptionOptions {
  keyStore: KeyStore;
  /** The tenant's current key (hex), as `prepareEncryption` resolved it. */
  key: string;
}

/** The database cannot be opened with the key at hand. Nothing was changed: the file is kept as it is. */
export class EncryptionKeyError extends Error {
  override name = 'EncryptionKeyError';
}

const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** A new random key: 32 bytes, hex. */
export function newEncryptionKey(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The names a tenant's keys are stored under. */
export function keyNames(tenantId: string): { current: string; next: string } {
  return { current: `trackhub_db_${tenantId}`, next: `trackhub_db_${tenantId}.next` };
}

/** Checks a key read from a store. */
export function assertKey(key: string, where: string): string {
  if (!KEY_PATTERN.test(key)) throw new EncryptionKeyError(`The key in ${where} is not 64 hex digits: the key store holds something else`);
  return key;
}

/**
 * DEVELOPMENT ONLY (Node): keys as files (`<dir>/<name>.key`, mode 0600),
 * written atomically. Anyone who can read the directory can read the keys.
 * On a device use the platform's secure storage.
 */
export function fileKeyStore(dir: string): KeyStore {
  const fs = nodeFs();
  if (!fs) throw new Error('fileKeyStore needs Node: on a device, use the Keychain / Keystore (docs/encryption.md)');
  const file = (name: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`fileKeyStore: invalid key name ${JSON.stringify(name)}`);
    return `${dir.replace(/[\\/]+$/, '')}/${name}.key`;
  };
  return {
    async get(name) {
      try {
        return fs.readFileSync(file(name), 'utf8').trim();
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return null;
        throw error;
      }
    },
    async set(name, key) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const target = file(name);
      const temp = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(temp, key, { mode: 0o600 });
      fs.renameSync(temp, target);
    },
    async delete(name) {
      fs.rmSync(file(name), { force: true });
    },
  };
}

/** Deletes both of a tenant's keys (sign-out). */
export async function deleteTenantKeys(keyStore: KeyStore, tenantId: string): Promise<void> {
  const names = keyNames(tenantId);
  await keyStore.delete(names.next);
  await keyStore.delete(names.current);
}
