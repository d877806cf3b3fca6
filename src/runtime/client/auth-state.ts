/**
 * Whether the device can sync with its credentials: `ok`, or `authRequired`
 * once the server refused them and no fresh token could be had (see the
 * transport's `refreshToken`). The SyncWorker pauses while authentication is
 * required and resumes when a new token arrives (`client.setToken`) or a sync
 * succeeds; queued changes wait untouched meanwhile.
 */
import type { AuthRequiredError } from './transport.js';

export type AuthState = 'ok' | 'authRequired';

export interface AuthStateChange {
  state: AuthState;
  /** The refusal that required authentication (null when back to `ok`). */
  error: AuthRequiredError | null;
}

export type AuthStateListener = (change: AuthStateChange) => void;

export class AuthGate {
  private current: AuthState = 'ok';
  private lastError: AuthRequiredError | null = null;
  private readonly listeners = new Set<AuthStateListener>();

  get state(): AuthState {
    return this.current;
  }

  get error(): AuthRequiredError | null {
    return this.lastError;
  }

  /** The server refused the credentials for good: tell listeners (once per episode). */
  required(error: AuthRequiredError): void {
    this.lastError = error;
    if (this.current === 'authRequired') return;
    this.current = 'authRequired';
    this.emit();
  }

  /** Credentials work again (a new token, or a successful sync). */
  restored(): void {
    if (this.current === 'ok') return;
    this.current = 'ok';
    this.lastError = null;
    this.emit();
  }

  subscribe(listener: AuthStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const change: AuthStateChange = { state: this.current, error: this.lastError };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // a listener's error must not break sync
      }
    }
  }
}
