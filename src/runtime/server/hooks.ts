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

export interface ReadHookContext {
  principal: Principal;
  entity: string;
  /** The server's Prisma client, for rules that look up memberships. */
  prisma: unknown;
}

/**
 * What a principal may read of an entity: a Prisma `where` every pull, online read and
 * write of the entity applies (rows outside it read as not found).
 */
export interface ReadRule {
  where: Record<string, unknown>;
  /**
   * Changes whenever the rule's result may change without a row of the entity changing
   * (a membership granted or revoked). Default: the `where` itself (as JSON), which is
   * enough when the where lists what is visible (`{ id: { in: [...] } }`). When it
   * differs from the one a device's cursor was issued under, the device reloads the
   * entity and drops what it may no longer see.
   */
  fingerprint?: string;
}

export interface EntityHooks {
  /**
   * Row-level read rule: return the filter for this principal, or nothing for "every
   * row of the tenant". Rules follow scope paths: a scoped entity's rows are readable
   * only under readable parents.
   */
  read?(context: ReadHookContext): ReadRule | undefined | void | Promise<ReadRule | undefined | void>;
  /**
   * On a scope root: whether this principal may subscribe to the root `id` (already known
   * to be readable under `read`). Default: yes.
   */
  subscribe?(id: string, context: ReadHookContext): boolean | Promise<boolean>;
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
