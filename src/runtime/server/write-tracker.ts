/**
 * The pull horizon: a write that commits while a pull runs is never lost.
 *
 * The problem: a write W stamps its row with updatedAt = t and commits later,
 * at t'. A pull running between t and t' cannot see W yet, but it may serve
 * rows with updatedAt > t and hand the client a watermark past t; the next
 * pull then starts after t and W is skipped forever.
 *
 * The mechanism:
 * - Every write of the runtime (syncPush items and online CRUD) runs inside
 *   `WriteTracker.run`, which registers the write in an in-process set with
 *   its start time s BEFORE the transaction begins, and unregisters it only
 *   after the transaction has committed (or failed).
 * - The server stamps `updatedAt = s` itself inside that transaction (client
 *   values are ignored), so every row a write produces has updatedAt >= s.
 * - Times come from one monotonic clock per tracker (never going backwards).
 * - A pull computes its horizon H = the start time of the oldest write still
 *   in flight, or "now" when none is. Every write with s < H has committed
 *   (it is no longer in the set) and is visible; every write not yet
 *   committed has s >= H. The pull serves only rows with updatedAt < H and
 *   returns a cursor / lastSyncAt that never passes H, so rows of in-flight
 *   writes are picked up by the next pull.
 *
 * Scope: one tracker per Prisma client object (shared by all services of the
 * process). Several server processes writing the same database need a
 * database-side equivalent (e.g. PostgreSQL `pg_snapshot_xmin`); writes made
 * outside the runtime (scripts using Prisma's automatic @updatedAt) are not
 * covered either.
 */
export class WriteTracker {
  private readonly inFlight = new Map<number, number>();
  private lastIssued = 0;
  private nextToken = 1;
  clock: () => number = Date.now;

  private static readonly byClient = new WeakMap<object, WriteTracker>();

  /** The tracker shared by everything that writes through this Prisma client. */
  static for(client: object): WriteTracker {
    let tracker = WriteTracker.byClient.get(client);
    if (!tracker) {
      tracker = new WriteTracker();
      WriteTracker.byClient.set(client, tracker);
    }
    return tracker;
  }

  /** Monotonic wall-clock milliseconds. */
  now(): number {
    const t = Math.max(this.clock(), this.lastIssued);
    this.lastIssued = t;
    return t;
  }

  /** Runs a write; `stamp` is the updatedAt every row it writes must carry. */
  async run<T>(write: (stamp: Date) => Promise<T>): Promise<T> {
    const start = this.now();
    const token = this.nextToken++;
    this.inFlight.set(token, start);
    try {
      return await write(new Date(start));
    } finally {
      this.inFlight.delete(token);
    }
  }

  /** Rows with updatedAt strictly below this (ms) are committed and safe to serve. */
  horizon(): number {
    let h = this.now();
    for (const start of this.inFlight.values()) if (start < h) h = start;
    return h;
  }

  /** Number of writes in flight (for tests and metrics). */
  get pending(): number {
    return this.inFlight.size;
  }
}
