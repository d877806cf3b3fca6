/**
 * Per-entity hooks: user code the generated server calls. Each entity gets a
 * user-owned `server/hooks/<entity>.hooks.ts`, created once by trackhub-gen and
 * never overwritten, whose `hooks` object the generated descriptor carries.
 */
import type { Principal } from './auth.js';
import type { WireRecord } from '../../contract/wire.js';
import { ItemError, SyncErrorCode, TrackhubError } from './errors.js';

export interface WriteHookContext {
  principal: Principal;
  entity: string;
  operation: 'create' | 'update' | 'delete';
  /** The record as the server holds it before the write (wire form); null for a create. */
  existing: WireRecord | null;
}

export interface PullHookContext {
  principal: Principal;
  entity: string;
}

export interface EntityHooks {
  /**
   * Called before every write from a device push or the online CRUD, with the values
   * about to be written. Return a message (or throw) to refuse the change: the item
   * fails with VALIDATION_FAILED and that message, and nothing is written.
   */
  validate?(data: Readonly<Record<string, unknown>>, context: WriteHookContext): string | void | Promise<string | void>;
  /** Adjust an item before a pull sends it (redact, add a computed value). */
  afterPull?(item: WireRecord, context: PullHookContext): WireRecord | Promise<WireRecord>;
}

async function refusal(hooks: EntityHooks | undefined, data: Record<string, unknown>, context: WriteHookContext): Promise<string | undefined> {
  if (!hooks?.validate) return undefined;
  try {
    const message = await hooks.validate(data, context);
    return typeof message === 'string' && message !== '' ? message : undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Sync push path: a refusal becomes a per-item VALIDATION_FAILED. */
export async function validateItem(hooks: EntityHooks | undefined, data: Record<string, unknown>, context: WriteHookContext): Promise<void> {
  const message = await refusal(hooks, data, context);
  if (message !== undefined) throw new ItemError(SyncErrorCode.VALIDATION_FAILED, message);
}

/** Online CRUD path: a refusal becomes a GraphQL error with code VALIDATION_FAILED. */
export async function validateInput(hooks: EntityHooks | undefined, data: Record<string, unknown>, context: WriteHookContext): Promise<void> {
  const message = await refusal(hooks, data, context);
  if (message !== undefined) throw new TrackhubError(SyncErrorCode.VALIDATION_FAILED, message);
}

export async function afterPull(hooks: EntityHooks | undefined, items: WireRecord[], context: PullHookContext): Promise<WireRecord[]> {
  if (!hooks?.afterPull) return items;
  const out: WireRecord[] = [];
  for (const item of items) out.push(await hooks.afterPull(item, context));
  return out;
}
