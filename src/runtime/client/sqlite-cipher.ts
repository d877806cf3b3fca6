/**
 * Encrypted tenant databases in Node: SQLCipher-compatible files (SQLCipher 4
 * format) through better-sqlite3-multiple-ciphers, behind WatermelonDB's own
 * SQLite adapter.
 *
 * WatermelonDB's Node driver opens `better-sqlite3` itself and has no key
 * option, so for a file registered here its `Database.open` (in
 * `@nozbe/watermelondb/adapters/sqlite/sqlite-node/Database`, 0.28.0 pinned)
 * opens the cipher driver instead and applies the key before any statement;
 * every other file opens exactly as before.
 *
 * The same hook (patchNodeDriver) puts every file database in write-ahead-log
 * mode right after it is opened, as WatermelonDB's native SQLite does on iOS and
 * Android: with the default rollback journal every commit creates, syncs and
 * deletes a journal file (about 4 ms here), so each single local write paid that;
 * in WAL mode a commit appends to the log (about 0.05 ms). WAL is as safe for a
 * process that is killed; the mode is kept in the file. Encrypted files keep the
 * rollback journal (SQLCipher re-keys only outside WAL mode; a plain file is taken
 * out of WAL mode before it is encrypted in place).
 *
 * `prepareEncryption` runs before the client opens the file: it checks the key
 * (a wrong or missing key is an `EncryptionKeyError`, and the file is never
 * wiped or recreated), encrypts an existing plain database in place, and
 * finishes a key rotation that was cut off. Node modules are reached through
 * `process.getBuiltinModule` so that bundles for other platforms never see them.
 */
import type { Database } from '@nozbe/watermelondb';

import { tenantDbName } from './database.js';
import { assertKey, EncryptionKeyError, keyNames, newEncryptionKey, type EncryptionOptions, type KeyStore } from './encryption.js';
import type { CipherSupport } from './cipher-support.js';
import { nodeFs } from './node-builtins.js';
import { cacheDriverStatements } from './statement-cache.js';

interface CipherDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): { get(...args: unknown[]): unknown };
  close(): void;
}
type CipherDriver = new (file: string, options?: { fileMustExist?: boolean }) => CipherDatabase;

const DRIVER = 'better-sqlite3-multiple-ciphers';
const WATERMELON_NODE_DATABASE = '@nozbe/watermelondb/adapters/sqlite/sqlite-node/Database';
const SQLITE_HEADER = 'SQLite format 3\0';

function nodeRequire(): (id: string) => unknown {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const nodeModule = getBuiltin?.('node:module') as { createRequire(from: string): (id: string) => unknown } | undefined;
  if (!nodeModule) throw new Error('Encrypted SQLite files need Node here; on React Native see docs/encryption.md');
  return nodeModule.createRequire(import.meta.url);
}

function cipherDriver(): CipherDriver {
  try {
    return nodeRequire()(DRIVER) as CipherDriver;
  } catch (error) {
    throw new Error(`Encryption in Node needs ${DRIVER}: npm install ${DRIVER}@12 (${(error as Error).message})`);
  }
}

/** Applies a raw 32-byte key in the SQLCipher 4 format; must come before any other statement. */
function applyKey(db: CipherDatabase, key: string): void {
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`key="x'${key}'"`);
}

/** The absolute file WatermelonDB's Node driver opens for `dbName` (its own path rule). */
function driverPath(dbName: string): string {
  const base = dbName.startsWith('/') ? dbName : `${process.cwd()}/${dbName}`;
  return base.includes('.db') ? base : `${base}.db`;
}

const keysByPath = new Map<string, string>();
let patched = false;

/**
 * Hooks WatermelonDB's Node driver `Database.open` once: a registered file opens
 * through the cipher driver with its key, others as before; then a file database
 * that is not encrypted (nor `:memory:`) goes to WAL mode (see the header); and its
 * statements are prepared once per connection (statement-cache.ts).
 */
export function patchNodeDriver(): void {
  if (patched) return;
  const loaded = nodeRequire()(WATERMELON_NODE_DATABASE) as { default?: { prototype: Record<string, unknown> } };
  const proto = (loaded.default ?? (loaded as unknown as { prototype: Record<string, unknown> })).prototype;
  const original = proto.open as (this: { path: string; instance: unknown }) => void;
  proto.open = function open(this: { path: string; instance: unknown }) {
    const key = keysByPath.get(this.path);
    if (key === undefined) {
      original.call(this);
      if (!this.path.includes(':memory:')) (this.instance as CipherDatabase).pragma('journal_mode = WAL');
      return;
    }
    // SQLCipher cannot re-key (rotate) a file in WAL mode: encrypted files keep the rollback journal.
    const Driver = cipherDriver();
    const db = new Driver(this.path);
    applyKey(db, key);
    this.instance = db;
  };
  cacheDriverStatements(proto);
  patched = true;
}

/** Makes WatermelonDB's Node driver open `dbName` encrypted with `key`. */
export function registerCipherKey(dbName: string, key: string): void {
  patchNodeDriver();
  keysByPath.set(driverPath(dbName), key);
}

/** Forgets a file's key (after sign-out). */
export function unregisterCipherKey(dbName: string): void {
  keysByPath.delete(driverPath(dbName));
}

function opensWith(file: string, key: string): boolean {
  const Driver = cipherDriver();
  const db = new Driver(file, { fileMustExist: true });
  try {
    applyKey(db, key);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

function isPlain(file: string): boolean {
  const fs = nodeFs()!;
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(16);
    const read = fs.readSync(fd, header, 0, 16, 0);
    return read === 16 && header.toString('latin1') === SQLITE_HEADER;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks, before WatermelonDB touches the file, that `key` opens it (an absent or
 * empty file is new and fine). Throws `EncryptionKeyError` otherwise.
 */
export function assertOpensWith(dbName: string, key: string): void {
  const fs = nodeFs();
  if (!fs || !fs.existsSync(dbName) || fs.statSync(dbName).size === 0) return;
  if (isPlain(dbName)) {
    throw new EncryptionKeyError(`The database ${dbName} is not encrypted: call prepareEncryption() first, which encrypts it in place`);
  }
  if (!opensWith(dbName, key)) {
    throw new EncryptionKeyError(`The database ${dbName} cannot be opened with this key (wrong key). Nothing was changed: the file is kept.`);
  }
}

/** Encrypts a plain SQLite file in place (no copy of the plain data is left behind). */
function encryptInPlace(file: string, key: string): void {
  const Driver = cipherDriver();
  const db = new Driver(file, { fileMustExist: true });
  try {
    // A plain tenant database is in WAL mode (patchNodeDriver); SQLCipher re-keys only outside it.
    db.pragma('journal_mode = DELETE');
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`rekey="x'${key}'"`);
  } finally {
    db.close();
  }
}

/**
 * Resolves the tenant's key and readies its file before the client opens it:
 * a new database gets a new key; a plain one is encrypted in place; a cut-off
 * rotation is finished. A file that none of the stored keys opens (a wrong or
 * missing key) is an `EncryptionKeyError`, and the file is left as it is.
 */
async function prepareEncryption(options: { keyStore: KeyStore; tenantId: string; dbDir: string }): Promise<EncryptionOptions> {
  const { keyStore, tenantId } = options;
  const fs = nodeFs();
  if (!fs) throw new Error('prepareEncryption is for Node; on React Native see docs/encryption.md');
  const file = tenantDbName(tenantId, options.dbDir);
  if (!file.endsWith('.db')) throw new Error('Encryption needs a database file: pass a dbDir, not ":memory:"');
  const names = keyNames(tenantId);
  const where = (name: string) => `the key store (${name})`;
  const stored = await keyStore.get(names.current);
  const current = stored === null ? null : assertKey(stored, where(names.current));
  const pending = await keyStore.get(names.next);
  const next = pending === null ? null : assertKey(pending, where(names.next));

  const exists = fs.existsSync(file) && fs.statSync(file).size > 0;
  if (!exists) {
    const key = current ?? newEncryptionKey();
    if (!current) await keyStore.set(names.current, key);
    if (next) await keyStore.delete(names.next);
    registerCipherKey(file, key);
    return { keyStore, key };
  }
  if (isPlain(file)) {
    const key = current ?? newEncryptionKey();
    if (!current) await keyStore.set(names.current, key);
    encryptInPlace(file, key);
    if (!opensWith(file, key)) throw new EncryptionKeyError(`Encrypting ${file} did not take: the file is left as it is`);
    registerCipherKey(file, key);
    return { keyStore, key };
  }
  if (current && opensWith(file, current)) {
    if (next) await keyStore.delete(names.next);
    registerCipherKey(file, current);
    return { keyStore, key: current };
  }
  if (next && opensWith(file, next)) {
    // A rotation re-keyed the file and was cut off before it stored the new key as current.
    await keyStore.set(names.current, next);
    await keyStore.delete(names.next);
    registerCipherKey(file, next);
    return { keyStore, key: next };
  }
  throw new EncryptionKeyError(
    current
      ? `The database ${file} cannot be opened with the key in the key store (${names.current}): a wrong key, or a file from another device. Nothing was changed: the file is kept.`
      : `The database ${file} is encrypted, but the key store has no key for tenant "${tenantId}" (${names.current}). Nothing was changed: restore the key, or sign out to delete the file.`,
  );
}

/** Re-keys the open database of a client (Node), crash-safe (see encryption.ts). Resolves with the new key. */
export async function rekeyOpenDatabase(database: Database, keyStore: KeyStore, tenantId: string, dbName: string): Promise<string> {
  const bridge = (nodeRequire()('@nozbe/watermelondb/adapters/sqlite/sqlite-node/DatabaseBridge') as {
    default: { connections: Record<string, { driver?: { database?: { instance?: CipherDatabase } } }> };
  }).default;
  const tag = (database.adapter as unknown as { underlyingAdapter?: { _tag?: string } }).underlyingAdapter?._tag;
  const instance = tag !== undefined ? bridge.connections[tag]?.driver?.database?.instance : undefined;
  if (!instance) throw new Error('rotateEncryptionKey: no open encrypted SQLite connection for this client');
  const names = keyNames(tenantId);
  const key = newEncryptionKey();
  await keyStore.set(names.next, key);
  instance.pragma(`rekey="x'${key}'"`);
  await keyStore.set(names.current, key);
  await keyStore.delete(names.next);
  registerCipherKey(dbName, key);
  return key;
}

/** What the Node entry registers (cipher-support.ts). */
export const nodeCipherSupport: CipherSupport = {
  prepare: prepareEncryption,
  assertOpensWith,
  register: registerCipherKey,
  unregister: unregisterCipherKey,
  rekey: rekeyOpenDatabase,
};
