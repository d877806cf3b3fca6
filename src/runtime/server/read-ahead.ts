/**
 * Pull read-ahead: once a page with more to come is answered, the server reads the
 * stream's next page at once (from the cursor it just returned) and keeps it for a
 * moment. A device that asks for that page, under the same principal, gets it without
 * waiting for the query: while the device was receiving and applying the page before,
 * the server was already reading this one. An initial pull is one request per page, each
 * waiting for the one before it (the cursor), so the server's time per page is otherwise
 * part of every step of the chain.
 *
 * The page kept is the answer the server would have given had the request come when it
 * was read: the same query, rules and hooks (`afterPull` runs for it then), the same
 * watermark and cursor. A write that commits after it was read stamps above that
 * watermark, so the device receives the write on a later page, as it would any write
 * committed while a page is on the wire. A page is kept at most `ttlMs` and given once;
 * a request that finds none (another replica answered the page before, the device gave
 * up, the page expired) reads its page as usual. Across replicas behind a load balancer
 * that spreads the requests of one device, a page read ahead by one replica and asked of
 * another is read twice: turn read-ahead off there (`pullReadAhead: false`) or keep a
 * device's requests on one replica.
 */
import type { Principal } from './auth.js';
import type { SyncPullArgs, SyncPullResult } from './pull.js';

export interface ReadAheadOptions {
  /** How long a page read ahead waits for its request, in ms. */
  ttlMs: number;
  /** Items kept across all pages read ahead: no page is read ahead beyond it. */
  maxItems: number;
}

/** Pages kept by default for up to 10 s, 20,000 items at most (twenty full pages). */
export const DEFAULT_READ_AHEAD: ReadAheadOptions = { ttlMs: 10_000, maxItems: 20_000 };

interface Entry {
  /** When it was read (performance.now()). */
  at: number;
  /** The page's `limit`: what it may hold, counted against `maxItems`. */
  items: number;
  page: Promise<SyncPullResult>;
}

export class PullReadAhead {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(private readonly options: ReadAheadOptions) {}

  /**
   * The page read ahead for this request, or null (none, or expired); given once. Only
   * requests that continue from a cursor are read ahead: nothing else names its page.
   */
  take(principal: Principal, entity: string, args: SyncPullArgs, limit: number): Promise<SyncPullResult> | null {
    this.expire();
    const key = keyOf(principal, entity, args, limit);
    const entry = key === null ? undefined : this.entries.get(key);
    if (!entry) return null;
    this.drop(key!, entry);
    return entry.page;
  }

  /**
   * After answering `page` for `args`: reads the stream's next page with `read` (called
   * on the next turn of the event loop, once this answer is on its way), when there is
   * one and room for it.
   */
  after(principal: Principal, entity: string, args: SyncPullArgs, limit: number, page: SyncPullResult, read: (next: SyncPullArgs) => Promise<SyncPullResult>): void {
    if (!page.hasMore || page.scopeRevoked) return;
    const next: SyncPullArgs = { ...args, cursor: page.cursor };
    const key = keyOf(principal, entity, next, limit);
    if (key === null || this.entries.has(key)) return;
    this.expire();
    if (this.held + limit > this.options.maxItems) return;
    const ahead = new Promise<SyncPullResult>((resolve, reject) => setImmediate(() => read(next).then(resolve, reject)));
    // A failure is the request's to see: it reads the page again (SyncService.pull).
    ahead.catch(() => undefined);
    this.entries.set(key, { at: performance.now(), items: limit, page: ahead });
    this.held += limit;
  }

  private expire(): void {
    const now = performance.now();
    for (const [key, entry] of this.entries) if (now - entry.at > this.options.ttlMs) this.drop(key, entry);
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.held -= entry.items;
  }
}

/**
 * What names a page: the principal (every field the verifier returned, in key order),
 * the entity, the limit, the scope and the cursor. Null without a cursor, or for a
 * principal that does not serialize.
 */
function keyOf(principal: Principal, entity: string, args: SyncPullArgs, limit: number): string | null {
  if (!args.cursor) return null;
  try {
    const who = Object.keys(principal)
      .sort()
      .map((k) => [k, (principal as unknown as Record<string, unknown>)[k]]);
    return JSON.stringify([who, entity, limit, args.scope ?? null, args.cursor]);
  } catch {
    return null;
  }
}
