/**
 * Where a `Blob` / `File` attached to a `@sync.media` field waits until it is
 * uploaded. The upload row's `local_path` then holds `trackhub-blob:<key>/<name>`
 * instead of a file path, and the uploader reads the bytes from this store a chunk
 * at a time (`blob.slice`), so a large photo is never read whole.
 *
 * In a browser the default store is an IndexedDB database of its own per tenant
 * (`trackhub_blobs_{tenantId}`): a photo picked offline survives a reload. Where
 * there is no IndexedDB (Node, React Native) the default keeps blobs in memory.
 */

export interface BlobStore {
  put(key: string, blob: Blob): Promise<void>;
  /** The blob, or null when it is gone. */
  get(key: string): Promise<Blob | null>;
  delete(key: string): Promise<void>;
  /** Deletes every blob and the store itself (sign-out). Optional for your own stores. */
  destroy?(): Promise<void>;
}

/** Prefix of an upload's `local_path` when its bytes are a stored Blob. */
export const BLOB_PATH_PREFIX = 'trackhub-blob:';

/** `trackhub-blob:<key>/<name>` for a stored blob. */
export function blobPath(key: string, name: string): string {
  return `${BLOB_PATH_PREFIX}${key}/${name.replace(/[\\/]/g, '_') || 'file'}`;
}

/** The store key of a `trackhub-blob:` path, or null for a file path. */
export function blobKeyOf(localPath: string): string | null {
  if (!localPath.startsWith(BLOB_PATH_PREFIX)) return null;
  const rest = localPath.slice(BLOB_PATH_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

/** Whether a value is a Blob (a File is one), across realms. */
export function isBlob(value: unknown): value is Blob {
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true;
  const v = value as { size?: unknown; type?: unknown; slice?: unknown; arrayBuffer?: unknown } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.size === 'number' &&
    typeof v.type === 'string' &&
    typeof v.slice === 'function' &&
    typeof v.arrayBuffer === 'function'
  );
}

/** Blobs kept in memory (lost when the process ends). */
export function memoryBlobStore(): BlobStore {
  const blobs = new Map<string, Blob>();
  return {
    put: async (key, blob) => {
      blobs.set(key, blob);
    },
    get: async (key) => blobs.get(key) ?? null,
    delete: async (key) => {
      blobs.delete(key);
    },
    destroy: async () => {
      blobs.clear();
    },
  };
}

const STORE = 'blobs';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Blobs in an IndexedDB database of their own (one object store, keyed by upload id). */
export function indexedDbBlobStore(dbName: string, factory: IDBFactory = globalThis.indexedDB): BlobStore {
  if (!factory) throw new Error('indexedDbBlobStore: no IndexedDB here; pass a BlobStore (e.g. memoryBlobStore())');
  let opened: Promise<IDBDatabase> | null = null;
  const open = (): Promise<IDBDatabase> => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(dbName, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab deleting the database: let it, and reopen on next use.
        db.onversionchange = () => {
          db.close();
          opened = null;
        };
        resolve(db);
      };
      req.onerror = () => reject(req.error ?? new Error(`IndexedDB ${dbName} cannot be opened`));
      req.onblocked = () => reject(new Error(`IndexedDB ${dbName} is blocked by another tab`));
    });
    return opened;
  };
  const run = async <T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await open();
    const tx = db.transaction(STORE, mode);
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    const [result] = await Promise.all([request(body(tx.objectStore(STORE))), done]);
    return result;
  };
  return {
    put: async (key, blob) => {
      await run('readwrite', (s) => s.put(blob, key));
    },
    get: async (key) => {
      const found = (await run('readonly', (s) => s.get(key))) as Blob | undefined;
      return found ?? null;
    },
    delete: async (key) => {
      await run('readwrite', (s) => s.delete(key));
    },
    destroy: async () => {
      const db = opened ? await opened.catch(() => null) : null;
      db?.close();
      opened = null;
      await new Promise<void>((resolve, reject) => {
        const req = factory.deleteDatabase(dbName);
        req.onsuccess = () => resolve();
        req.onerror = () => reject(req.error ?? new Error(`IndexedDB ${dbName} cannot be deleted`));
        req.onblocked = () => resolve(); // deleted once the other tab lets go
      });
    },
  };
}

/** The default store for a tenant: IndexedDB where there is one, else memory. */
export function defaultBlobStore(tenantId: string): BlobStore {
  return typeof globalThis.indexedDB !== 'undefined'
    ? indexedDbBlobStore(`trackhub_blobs_${tenantId}`)
    : memoryBlobStore();
}
