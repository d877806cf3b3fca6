import type { Database } from '@nozbe/watermelondb';

/**
 * Serialises sync work for one database. A call with the same key as a
 * queued or running one joins it (two `syncAll()` calls share one run);
 * different keys run one after the other, never at the same time.
 */
export class SyncLock {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private running: string | null = null;

  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Key of the job running now, if any. */
  get current(): string | null {
    return this.running;
  }

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key);
    if (existing) return existing as Promise<T>;
    const promise: Promise<T> = this.tail
      .catch(() => undefined)
      .then(async () => {
        this.running = key;
        try {
          return await job();
        } finally {
          this.running = null;
        }
      })
      .finally(() => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    this.tail = promise;
    return promise;
  }
}

const locks = new WeakMap<Database, SyncLock>();

/** The one lock of a database (shared by every engine / client opened on it in this process). */
export function syncLockFor(database: Database): SyncLock {
  let lock = locks.get(database);
  if (!lock) {
    lock = new SyncLock();
    locks.set(database, lock);
  }
  return lock;
}
