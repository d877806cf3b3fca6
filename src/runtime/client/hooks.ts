/**
 * Client hooks: your code around the generated services' sync, per entity, in
 * a user-owned file (`client/hooks/<entity>.hooks.ts`, created once, never
 * overwritten).
 *
 * - `beforePush` sees each outgoing change when it is about to be sent. It may
 *   adjust it (the adjusted values are written to the device record too, so
 *   device and server agree) or refuse it with a reason (the change stays on
 *   the device, given up, listed by `client.givenUp()` with that reason, until
 *   `client.retryGivenUp()`). It runs inside the push's database writer: it may
 *   compute, even asynchronously, but must not write to the database itself.
 * - `afterPull` is told which records a pull applied (local ids), once the page
 *   is committed. Its errors are reported to `onHookError` and never stop sync.
 */

/** An outgoing change: wire-shaped values (dates as ISO text, foreign keys as local ids). */
export interface OutgoingChange {
  entity: string;
  operation: 'insert' | 'update' | 'delete';
  /** Local id of the record. */
  id: string;
  /** The fields this change sets (empty for a delete). */
  values: Readonly<Record<string, unknown>>;
}

/** What `beforePush` returns: nothing (send as is), adjusted `values` to merge in, or a refusal. */
export type BeforePushResult = void | undefined | { values: Record<string, unknown> } | { refuse: string };

/** Records a pull applied to the device, by local id. */
export interface PulledChanges {
  entity: string;
  created: string[];
  updated: string[];
  deleted: string[];
}

export interface ClientHooks {
  beforePush?(change: OutgoingChange): BeforePushResult | Promise<BeforePushResult>;
  afterPull?(changes: PulledChanges): void | Promise<void>;
}

/** Hooks by entity name, as the generated `createClient` passes them. */
export type ClientHooksByEntity = Readonly<Record<string, ClientHooks | undefined>>;

/** The message a refused change keeps in the queue (after the give-up prefix). */
export function refusedMessage(reason: string): string {
  return `REFUSED_BY_HOOK: ${reason}`;
}
