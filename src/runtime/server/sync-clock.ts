/**
 * The pull order, kept by the database: every server replica, whatever its
 * clock says, stamps writes in the order they commit.
 *
 * The problem: a pull hands out a position ("everything up to here was
 * delivered"). A write that commits later with a stamp at or before that
 * position is never pulled. Stamps from a process clock go wrong twice: a write
 * held open (waiting on a lock) commits after later writes that a pull already
 * served, and replicas' clocks differ, so one replica's "now" is behind a
 * position another replica handed out.
 *
 * The mechanism: one row per sync scope (entity x tenant; entity alone for a
 * `tenant: "none"` entity) in the `TrackhubSyncClock` model, holding the last
 * `updatedAt` stamped in that scope. Every write transaction of the runtime
 * (syncPush chunks and items, online CRUD) first updates its scope's row, which
 * takes the row's lock until the transaction ends, then stamps its rows with
 * `max(replica clock, last stamp + 1 ms)` (one ms per item of a chunk) and stores
 * the last one (one UPDATE when the last stamp is before the replica's clock; an
 * upsert, then an UPDATE, otherwise). So, per scope:
 *
 *   - writes hold the lock one after the other: commit order = stamp order, and
 *     stamps strictly increase (a replica whose clock is behind just continues
 *     after the last stamp; correctness never depends on any clock);
 *   - whatever a pull sees is a prefix of that order: a write not yet committed
 *     has a stamp above every committed one.
 *
 * A pull reads the scope's committed stamp (its watermark) BEFORE it reads the
 * rows; once a page has no more rows it may move its position up to that
 * watermark (nothing at or below it can still commit). Keyset cursors stay
 * (updatedAt, id); `since` / `lastSyncAt` are exact because each stamp belongs
 * to one transaction and a later commit always stamps above it.
 *
 * A delete whose relations reach other entities (onDelete, see cascade.ts) also locks
 * those entities' scopes, up front and parents first (EntityRegistry.descendantsOf),
 * and stamps the children it changes in their own scopes.
 *
 * The cost: writes of one scope are serialised (one tenant's writes to one
 * entity, across all replicas); different scopes do not wait for each other.
 * Writes that bypass the runtime (scripts) must go through `SyncClock.write`
 * too, or they may be missed by devices that pulled meanwhile.
 */
import DataLoader from 'dataloader';

import { SYNC_CLOCK_DELEGATE, SYNC_CLOCK_MODEL } from '../sync-clock-model.js';
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import { delegateOf, type PrismaLike, type PrismaTransactionOptions, type Row } from './prisma.js';
import { tenantScope } from './store.js';

/** Prisma model (and client delegate) holding one row per sync scope. */
export { SYNC_CLOCK_DELEGATE, SYNC_CLOCK_MODEL, SYNC_CLOCK_PRISMA, SYNC_CLOCK_TABLE } from '../sync-clock-model.js';

/** Fault injection for tests: runs inside each write transaction, after its writes, before it commits. */
export type BeforeCommitHook = (write: { entity: string; tenantId: string | null }) => Promise<void> | void;

interface ClockDelegate {
  upsert(args: { where: Row; create: Row; update: Row }): Promise<Row>;
  update(args: { where: Row; data: Row }): Promise<Row>;
  updateMany(args: { where: Row; data: Row }): Promise<{ count: number }>;
  findFirst(args: { where: Row; select?: Record<string, boolean> }): Promise<Row | null>;
  findMany(args: { where: Row; select?: Record<string, boolean> }): Promise<Row[]>;
}

/** `Entity:tenant`, or `Entity` for a global entity (entity names never contain a colon). */
export function syncScope(d: { name: string; tenantField: string | null }, principal: Principal): string {
  return d.tenantField ? `${d.name}:${principal.tenantId}` : d.name;
}

/** Stamps in the further scopes a write locked (`SyncClock.write`'s `alsoLock`). */
export interface ScopeStamps {
  /** The next stamp (epoch ms) in `d`'s scope, above every stamp committed or in flight there. */
  next(d: EntityDescriptor): Promise<number>;
}

export interface SyncClockOptions {
  /** The replica's wall clock, epoch ms (default `Date.now`). Only a starting value: stamps never go back. */
  clock?: () => number;
  transactionOptions: PrismaTransactionOptions;
  beforeCommit?: BeforeCommitHook;
}

export class SyncClock {
  private inFlight = 0;
  /** First stamp of each write of this process still inside its transaction, by scope. */
  private readonly held = new Map<string, Map<number, number>>();
  private nextToken = 1;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaLike,
    private readonly options: SyncClockOptions,
  ) {
    this.now = options.clock ?? Date.now;
    const delegate = (prisma as unknown as Record<string, unknown>)[SYNC_CLOCK_DELEGATE] as Partial<ClockDelegate> | undefined;
    if (!delegate || typeof delegate.upsert !== 'function') {
      throw new Error(
        `TrackhubCore: the Prisma client has no ${SYNC_CLOCK_MODEL} model, which keeps the pull order of every server replica. ` +
          'Add it to schema.prisma with `npx trackhub-gen fix-schema` (or paste the model from the README, "Deployment"), ' +
          'run your migration and regenerate the Prisma client.',
      );
    }
  }

  /**
   * Runs `write` in one interactive transaction that holds the scope's clock row.
   * `stamp` is the first of `count` consecutive millisecond stamps reserved for it
   * (item i of a chunk uses stamp + i); all are above every stamp committed or in
   * flight in the scope.
   */
  async write<T>(
    d: EntityDescriptor,
    principal: Principal,
    count: number,
    write: (tx: object, stamp: number, more: ScopeStamps) => Promise<T>,
    alsoLock: readonly EntityDescriptor[] = [],
  ): Promise<T> {
    this.inFlight += 1;
    const token = this.nextToken++;
    const scope = syncScope(d, principal);
    const scopes = [scope];
    try {
      return await this.prisma.$transaction(async (tx) => {
        const stamp = await this.reserve(tx, d, principal, scope, token, Math.max(1, count));
        // Further scopes (the children a delete may touch), locked now, in the caller's order.
        const last = new Map<string, number>();
        for (const other of alsoLock) {
          const otherScope = syncScope(other, principal);
          if (last.has(otherScope) || otherScope === scope) continue;
          last.set(otherScope, await this.lock(tx, other, principal, otherScope, token));
          scopes.push(otherScope);
        }
        const more: ScopeStamps = {
          next: async (other) => {
            const otherScope = syncScope(other, principal);
            const previous = last.get(otherScope);
            if (previous === undefined) throw new Error(`SyncClock: the scope ${otherScope} was not locked by this write`);
            const next = Math.max(Math.trunc(this.now()), previous + 1);
            last.set(otherScope, next);
            await clockOf(tx).update({ where: { scope: otherScope }, data: { stamp: new Date(next) } });
            return next;
          },
        };
        const result = await write(tx, stamp, more);
        await this.options.beforeCommit?.({ entity: d.name, tenantId: d.tenantField ? principal.tenantId : null });
        return result;
      }, this.options.transactionOptions);
    } finally {
      this.inFlight -= 1;
      for (const s of scopes) this.release(s, token);
    }
  }

  /**
   * Gives a scope its first stamp without writing anything else: the clock moves past every
   * row already in the scope (like a scope's first write does). A pull calls it when the scope
   * has no stamp yet, so that the next pulls can tell "nothing new" from the watermark alone
   * instead of reading the table. Harmless at any time: a stamp reserved and unused only
   * means the next write stamps after it.
   */
  async open(d: EntityDescriptor, principal: Principal): Promise<void> {
    const token = this.nextToken++;
    const scope = syncScope(d, principal);
    try {
      await this.prisma.$transaction((tx) => this.reserve(tx, d, principal, scope, token, 1), this.options.transactionOptions);
    } finally {
      this.release(scope, token);
    }
  }

  /** From now on stamps from `first` on in the scope may be the write `token`'s, uncommitted. */
  private hold(scope: string, token: number, first: number): void {
    let held = this.held.get(scope);
    if (!held) this.held.set(scope, (held = new Map()));
    held.set(token, first);
  }

  /** The write `token` has committed or rolled back: its stamps in the scope are settled. */
  private release(scope: string, token: number): void {
    const held = this.held.get(scope);
    held?.delete(token);
    if (held?.size === 0) this.held.delete(scope);
  }

  /**
   * Locks a further scope of a write (its row, until the transaction ends) without stamping
   * anything yet; returns its last stamp. Stamps above it may be this write's from now on.
   */
  private async lock(tx: unknown, d: EntityDescriptor, principal: Principal, scope: string, token: number): Promise<number> {
    const last = await this.lastStamp(tx, d, principal, scope);
    this.hold(scope, token, last + 1);
    return last;
  }

  /** Locks the scope's row and moves its stamp past `count` new ones; returns the first of them. */
  private async reserve(tx: unknown, d: EntityDescriptor, principal: Principal, scope: string, token: number, count: number): Promise<number> {
    const clock = clockOf(tx);
    // The common case, in one statement: the scope's last stamp is before the replica's clock.
    // The UPDATE takes the row's lock (waiting for a write holding it, then checking its new
    // stamp); it changes nothing when the last stamp is at or past `now`, or when the scope
    // has no stamp yet (no row, or 0: `lastStamp` then looks at rows from before the clock).
    const now = Math.trunc(this.now());
    this.hold(scope, token, now);
    const moved = await clock.updateMany({ where: { scope, stamp: { lt: new Date(now), gt: new Date(0) } }, data: { stamp: new Date(now + count - 1) } });
    if (moved.count === 1) return now;
    const last = await this.lastStamp(tx, d, principal, scope);
    const first = Math.max(Math.trunc(this.now()), last + 1);
    this.hold(scope, token, first);
    await clock.update({ where: { scope }, data: { stamp: new Date(first + count - 1) } });
    return first;
  }

  /** Takes the scope's row lock (upsert = UPDATE / INSERT ... ON CONFLICT) and returns its last stamp. */
  private async lastStamp(tx: unknown, d: EntityDescriptor, principal: Principal, scope: string): Promise<number> {
    const clock = clockOf(tx);
    const row = await clock.upsert({ where: { scope }, create: { scope, stamp: new Date(0) }, update: { scope } });
    let last = (row.stamp as Date).getTime();
    if (last === 0) {
      // First write of the scope through the clock: rows may exist from before it (an
      // upgraded database, an older server): continue after the newest of them.
      const [newest] = await delegateOf(tx, d.delegate).findMany({
        // (an `updatedAt DateTime?` may hold nulls, which PostgreSQL sorts first in descending order)
        where: d.updatedAtNullable ? { AND: [tenantScope(d, principal), { updatedAt: { not: null } }] } : tenantScope(d, principal),
        orderBy: [{ updatedAt: 'desc' }],
        take: 1,
        select: { updatedAt: true },
      });
      if (newest) last = (newest.updatedAt as Date).getTime();
    }
    return last;
  }

  /**
   * The last stamp committed in the scope (epoch ms), or null before its first
   * write. Read it BEFORE the rows: every write that commits later stamps above it.
   */
  async watermark(client: unknown, d: EntityDescriptor, principal: Principal): Promise<number | null> {
    const scope = syncScope(d, principal);
    // Outside a transaction, the reads asked for in one turn of the event loop (the pages of
    // one request, concurrent requests) are one query. Each is still read after it was asked
    // for and before its caller reads rows, which is all the watermark needs.
    const stamp = client === this.prisma ? await this.watermarks.load(scope) : this.belowHeld(scope, await readStamp(client, scope));
    return stamp === 0 ? null : stamp;
  }

  private readonly watermarks = new DataLoader<string, number>(
    async (scopes) => {
      const rows = await clockOf(this.prisma).findMany({ where: { scope: { in: [...scopes] } }, select: { scope: true, stamp: true } });
      const byScope = new Map(rows.map((row) => [row.scope as string, (row.stamp as Date).getTime()]));
      return scopes.map((scope) => this.belowHeld(scope, byScope.get(scope) ?? 0));
    },
    { cache: false, batchScheduleFn: (run) => setImmediate(run), maxBatchSize: 500 },
  );

  /**
   * A stamp just read, kept below the first stamp of every write of this process still in
   * its transaction in the scope, as soon as it is read: through a shared connection
   * (SQLite) the read may have seen such a write's clock row, and should that write roll
   * back before the caller looks at `localHorizon` again, its stamps would be used again.
   */
  private belowHeld(scope: string, stamp: number): number {
    const h = this.heldFrom(scope);
    return stamp !== 0 && stamp >= h ? h - 1 : stamp;
  }

  /** The first stamp of the scope's writes of this process still in their transaction (Infinity when none). */
  private heldFrom(scope: string): number {
    let h = Infinity;
    for (const first of this.held.get(scope)?.values() ?? []) if (first < h) h = first;
    return h;
  }

  /**
   * Stamps from here on may belong to a write of THIS process that has not
   * committed yet (Infinity when none is open). Only a driver that shares one
   * connection between a transaction and other queries (SQLite through one
   * better-sqlite3 connection) lets a pull see such rows, and the clock row they
   * moved: a pull serves nothing from here on. On PostgreSQL it changes nothing.
   */
  localHorizon(d: EntityDescriptor, principal: Principal): number {
    return this.heldFrom(syncScope(d, principal));
  }

  /** Writes of this process inside their transaction (for tests and metrics). */
  get pending(): number {
    return this.inFlight;
  }
}

/** The scope's last stamp (epoch ms), 0 before its first write. */
async function readStamp(client: unknown, scope: string): Promise<number> {
  const row = await clockOf(client).findFirst({ where: { scope }, select: { stamp: true } });
  return row ? (row.stamp as Date).getTime() : 0;
}

function clockOf(client: unknown): ClockDelegate {
  return (client as Record<string, ClockDelegate>)[SYNC_CLOCK_DELEGATE]!;
}
