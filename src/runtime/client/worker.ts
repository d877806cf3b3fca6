/**
 * Background sync worker: polls, syncs soon after a local change or when the
 * network comes back (debounced), and backs off exponentially (with jitter) after failures.
 * Every run goes through `client.syncAll()`, so it never overlaps another sync.
 *
 * The network signal is yours to wire (NetInfo on React Native, `online`
 * events in a browser): call `setOnline(boolean)`.
 */
import type { TrackhubClient } from './client.js';
import type { SyncReport } from './engine.js';
import { RUNTIME_TABLES } from './tables.js';
import { AuthRequiredError } from './transport.js';

export interface SyncWorkerOptions {
  /** Poll period while idle (default 30 000 ms; 0 = no polling). */
  intervalMs?: number;
  /** Delay between a trigger (local change, back online) and the sync (default 1 000 ms). */
  debounceMs?: number;
  /** First retry delay after a failure (default 2 000 ms), doubled per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest retry delay (default 300 000 ms). */
  maxBackoffMs?: number;
  /**
   * Jitter: each retry delay is shortened by a random fraction up to this
   * (default 0.5: between half and all of the exponential delay), so devices that
   * failed together do not retry together. 0 = no jitter.
   */
  jitter?: number;
  /** Random source in [0, 1) for the jitter (default Math.random; inject a seeded one in tests). */
  random?: () => number;
  /** Sync soon after every local change (default true). */
  syncOnChange?: boolean;
  /** Starting network state (default true). */
  online?: boolean;
  onSync?: (report: SyncReport) => void;
  onError?: (error: unknown, failures: number) => void;
}

type Timer = ReturnType<typeof setTimeout>;

export class SyncWorker {
  private timer: Timer | null = null;
  private dueAt = 0;
  private running: Promise<void> | null = null;
  private started = false;
  private triggeredWhileRunning = false;
  /** Retry failed uploads without waiting for their backoff (network back, syncNow). */
  private forceUploads = false;
  private online: boolean;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeAuth: (() => void) | null = null;
  /** Paused: the server refused the credentials; resumes when they work again. */
  private authPaused = false;
  /** Consecutive failed runs (0 after a success). */
  failures = 0;
  lastError: unknown = null;
  lastReport: SyncReport | null = null;

  constructor(
    readonly client: TrackhubClient,
    private readonly options: SyncWorkerOptions = {},
  ) {
    this.online = options.online ?? true;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** When the next run is due (epoch ms), or null when none is scheduled. */
  get nextRunAt(): number | null {
    return this.timer ? this.dueAt : null;
  }

  /** Whether the worker is paused because the server refused the credentials (see `client.setToken`). */
  get authRequired(): boolean {
    return this.authPaused;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribeAuth = this.client.onAuthStateChange((change) => {
      if (change.state !== 'ok' || !this.authPaused) return;
      this.authPaused = false;
      this.failures = 0;
      this.trigger();
    });
    if (this.options.syncOnChange !== false) {
      const subscription = this.client.database.get(RUNTIME_TABLES.operationQueue).changes.subscribe((changes) => {
        // New work: a queued change, or one set back to pending (coalesced, rebased, resolved).
        const fresh = changes.some(
          (c) =>
            c.type === 'created' ||
            (c.type === 'updated' && (c.record._raw as unknown as { status?: string }).status === 'pending'),
        );
        if (fresh) this.trigger();
      });
      // A scope subscribed (or made active again): its records are wanted now.
      // (A schema generated before partial sync has no sync_scopes table.)
      const scopes =
        RUNTIME_TABLES.syncScopes in this.client.database.schema.tables
          ? this.client.database.get(RUNTIME_TABLES.syncScopes).changes.subscribe((changes) => {
              if (changes.some((c) => c.type !== 'destroyed' && (c.record._raw as unknown as { status?: string }).status === 'active')) this.trigger();
            })
          : null;
      this.unsubscribe = () => {
        subscription.unsubscribe();
        scopes?.unsubscribe();
      };
    }
    this.schedule(0);
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.started = false;
    this.clear();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unsubscribeAuth?.();
    this.unsubscribeAuth = null;
    await this.running;
  }

  /** Network state from your monitor; coming back online syncs (debounced). */
  setOnline(online: boolean): void {
    const cameBack = online && !this.online;
    this.online = online;
    if (cameBack) {
      this.failures = 0;
      this.forceUploads = true;
      this.trigger();
    }
  }

  /** Sync soon (debounced), unless a run is already due sooner. Ignored while backing off or paused for auth. */
  trigger(): void {
    if (!this.started || this.failures > 0 || this.authPaused) return;
    if (this.running) {
      this.triggeredWhileRunning = true;
      return;
    }
    const delay = this.options.debounceMs ?? 1_000;
    if (this.timer && this.dueAt <= Date.now() + delay) return;
    this.schedule(delay);
  }

  /** Runs a sync now (joins one in progress). */
  async syncNow(): Promise<void> {
    this.clear();
    this.forceUploads = true;
    await this.run();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delay: number): void {
    if (!this.started) return;
    this.clear();
    this.dueAt = Date.now() + delay;
    const timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delay);
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  private backoff(): number {
    const initial = this.options.initialBackoffMs ?? 2_000;
    const max = this.options.maxBackoffMs ?? 300_000;
    const delay = Math.min(max, initial * 2 ** Math.max(0, this.failures - 1));
    const jitter = Math.min(1, Math.max(0, this.options.jitter ?? 0.5));
    const random = this.options.random ?? Math.random;
    return Math.round(delay * (1 - jitter * random()));
  }

  /** The delay before the next retry after `failures` consecutive failures (for tests and dashboards). */
  backoffFor(failures: number): number {
    const saved = this.failures;
    this.failures = failures;
    try {
      return this.backoff();
    } finally {
      this.failures = saved;
    }
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    this.triggeredWhileRunning = false;
    this.running = this.execute().finally(() => {
      this.running = null;
      if (!this.started || this.authPaused) return;
      const interval = this.options.intervalMs ?? 30_000;
      if (this.failures > 0) this.schedule(this.backoff());
      else if (this.triggeredWhileRunning) this.schedule(this.options.debounceMs ?? 1_000);
      else if (interval > 0) this.schedule(interval);
      this.triggeredWhileRunning = false;
    });
    return this.running;
  }

  private async execute(): Promise<void> {
    if (!this.online) return;
    try {
      if (this.client.hasUploader) {
        const force = this.forceUploads;
        this.forceUploads = false;
        await this.client.uploads.process({ force });
      }
      const report = await this.client.syncAll();
      this.failures = 0;
      this.lastError = null;
      this.lastReport = report;
      this.options.onSync?.(report);
    } catch (error) {
      this.lastError = error;
      if (error instanceof AuthRequiredError) {
        // No retry loop with refused credentials: wait for a new token (client.setToken).
        this.authPaused = true;
        this.options.onError?.(error, this.failures);
        return;
      }
      this.failures += 1;
      this.options.onError?.(error, this.failures);
    }
  }
}
