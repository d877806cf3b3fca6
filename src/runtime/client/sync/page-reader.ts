/**
 * The page reader of one stream: it fetches the stream's pages one after another (each
 * page's request needs the cursor of the page before it), up to about PULL_AHEAD_ITEMS
 * items ahead of what its stream has taken, while the stream applies the pages it
 * already has (pull.ts). A reader is opened from the position the stream is at; the
 * stream only uses a reader opened from the position it finds when it begins.
 *
 * The pull phase opens the next stream's reader as soon as this one has its stream's
 * last page (streams.ts), so the next stream's pages arrive while this stream is still
 * applying its last ones, and the server is not idle between two streams. Nothing it
 * reads is applied or stored before that stream begins.
 */
import type { EntityDescriptor } from '../descriptors.js';
import type { GraphQLTransport, SyncPullArgs } from '../transport.js';
import { syncState } from './apply-remote.js';
import type { EngineContext } from './context.js';

/** Pulled items fetched ahead of the group being applied: a whole next group, fetched while this one is written. */
export const PULL_AHEAD_ITEMS = 5_000;

export type Page = Awaited<ReturnType<GraphQLTransport['syncPull']>>;

/** A stream's first page, fetched beforehand (first-pages.ts), and the position it was asked from. */
export interface FirstPage {
  since: string | null;
  cursor: string | null;
  page: Page;
}

/** The `syncPull` arguments of a page of a stream at a position. */
export function pageArgs(ctx: EngineContext, entity: EntityDescriptor, scope: string | null, since: string | null, cursor: string | null): SyncPullArgs {
  return { entity: entity.name, since, limit: ctx.pullLimit, cursor, ...(scope !== null ? { scope } : {}) };
}

/**
 * Opens a reader of the stream at the position its sync state holds now. `first`: the
 * stream's first page, already fetched; used when it was asked from that position (else
 * the page is fetched again).
 */
export async function openReader(ctx: EngineContext, entity: EntityDescriptor, scope: string | null, first: FirstPage | undefined): Promise<PageReader> {
  const state = await syncState(ctx, entity, scope);
  return new PageReader(ctx, entity, scope, state?.lastSyncAt ?? null, state?.cursor ?? null, first);
}

export class PageReader {
  private readonly queue: Page[] = [];
  private queued = 0;
  private failed: { error: unknown } | null = null;
  private done = false;
  private stopped = false;
  private wakeReader: (() => void) | null = null;
  private wakeTaker: (() => void) | null = null;
  /** Resolves once the reader fetches no more: it has the stream's last page, it failed, or it was stopped. */
  readonly finished: Promise<void>;
  private hasLast = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly entity: EntityDescriptor,
    private readonly scope: string | null,
    /** The position the reader reads from. */
    readonly since: string | null,
    readonly cursor: string | null,
    first: FirstPage | undefined,
  ) {
    const fetched = first && first.since === since && first.cursor === cursor ? first.page : null;
    this.finished = this.read(fetched)
      .catch((error: unknown) => {
        this.failed = { error };
      })
      .finally(() => {
        this.done = true;
        this.wake('taker');
      });
  }

  /** Whether the reader has the stream's last page (it neither failed nor was stopped). */
  get complete(): boolean {
    return this.hasLast;
  }

  /** Items fetched and not yet taken. */
  get buffered(): number {
    return this.queued;
  }

  /** The next page; rejects with the reader's error, or when the reader stopped before the stream's last page. */
  async next(): Promise<Page> {
    while (this.queue.length === 0) {
      if (this.failed) throw this.failed.error;
      if (this.done) throw new Error(`syncPull(${this.entity.name}): the page reader stopped early`);
      await new Promise<void>((resolve) => (this.wakeTaker = resolve));
    }
    const page = this.queue.shift()!;
    this.queued -= page.items.length;
    this.wake('reader');
    return page;
  }

  /** Stops fetching: pages fetched and not taken are dropped; a fetch in flight ends on its own. */
  stop(): void {
    this.stopped = true;
    this.wake('reader');
  }

  private async read(fetched: Page | null): Promise<void> {
    let cursor = this.cursor;
    let since = this.since;
    for (;;) {
      while (this.queued >= PULL_AHEAD_ITEMS && !this.stopped) await new Promise<void>((resolve) => (this.wakeReader = resolve));
      if (this.stopped) return;
      const page = fetched ?? (await this.ctx.transport.syncPull(pageArgs(this.ctx, this.entity, this.scope, since, cursor)));
      fetched = null;
      if (this.stopped) return;
      this.queue.push(page);
      this.queued += page.items.length;
      this.wake('taker');
      const nextCursor = page.cursor ?? null;
      if (!page.hasMore || page.scopeRevoked || (!nextCursor && page.items.length === 0)) {
        this.hasLast = true;
        return;
      }
      if (nextCursor) cursor = nextCursor;
      else {
        // A server without cursors: continue from the newest item of the page.
        const newest = page.items
          .map((i) => String(i.updatedAt ?? ''))
          .sort()
          .pop();
        since = newest || since;
      }
    }
  }

  private wake(which: 'reader' | 'taker'): void {
    const fn = which === 'reader' ? this.wakeReader : this.wakeTaker;
    if (which === 'reader') this.wakeReader = null;
    else this.wakeTaker = null;
    fn?.();
  }
}
