/**
 * A local delete and the relations' onDelete, on the device: the same rules the
 * server carries out (see runtime/server/cascade.ts), applied at once to what the
 * device holds, in the delete's own database write:
 *
 *   Cascade   the device's live children are deleted too (and theirs, recursively)
 *   SetNull   their reference is cleared (a queued update)
 *   Restrict  the delete is refused (DeleteRestrictedError) while the device holds a live child
 *
 * Without this, a parent created and deleted before it synced would vanish while a
 * child created under it was still queued, pointing at a record the server never saw.
 * Children the device does not hold (made on another device) are the server's part.
 */
import { Q } from '@nozbe/watermelondb';
import type { Database, Model } from '@nozbe/watermelondb';

import { defaultOnDelete, type OnDeleteAction } from '../../contract/fields.js';
import type { RawRow } from './codec.js';
import { rawToWire } from './codec.js';
import type { EntityDescriptor, FieldDescriptor } from './descriptors.js';
import { SYNC_COLUMNS } from './descriptors.js';
import type { OperationQueue } from './queue.js';

/** A local delete refused by a relation's `onDelete: Restrict`: the device holds live children. */
export class DeleteRestrictedError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly child: string,
    readonly field: string,
    readonly count: number,
  ) {
    super(
      `${entity} ${id} still has ${count} live ${child} record(s) on this device (${child}.${field} is onDelete: Restrict, ` +
        `Prisma's default for a required relation): delete or move them first`,
    );
    this.name = 'DeleteRestrictedError';
  }
}

/** The relation's onDelete, or Prisma's default for a descriptor that does not name one. */
export function onDeleteOf(field: FieldDescriptor): OnDeleteAction {
  return field.onDelete ?? defaultOnDelete(field.optional);
}

interface LocalDeleteContext {
  database: Database;
  queue: OperationQueue;
  entities: readonly EntityDescriptor[];
}

/** True when some relation points at `descriptor` (a delete of it has children to follow). */
export function hasLocalDependents(entities: readonly EntityDescriptor[], descriptor: EntityDescriptor): boolean {
  return entities.some((e) => e.fields.some((f) => f.relation === descriptor.name));
}

/**
 * Plans the delete of `records` (of `descriptor`) with everything their relations imply,
 * inside the caller's writer; returns the models to batch. Throws DeleteRestrictedError
 * before anything is planned when a Restrict child remains (a child deleted in the same
 * call does not count).
 */
export async function prepareLocalDelete(ctx: LocalDeleteContext, descriptor: EntityDescriptor, records: readonly Model[]): Promise<Model[]> {
  const deletes: { d: EntityDescriptor; record: Model }[] = [];
  const clears = new Map<string, { d: EntityDescriptor; record: Model; fields: FieldDescriptor[] }>();
  const seen = new Set<string>();
  const visit = async (d: EntityDescriptor, parent: Model): Promise<void> => {
    deletes.push({ d, record: parent });
    for (const child of ctx.entities) {
      for (const field of child.fields) {
        if (field.relation !== d.name) continue;
        const rows = await ctx.database
          .get(child.table)
          .query(Q.where(field.column, parent.id), Q.where(SYNC_COLUMNS.deletedAt, null))
          .fetch();
        const live = rows.filter((r) => !seen.has(`${child.name}|${r.id}`));
        if (live.length === 0) continue;
        const action = onDeleteOf(field);
        if (action === 'Restrict') throw new DeleteRestrictedError(d.name, parent.id, child.name, field.name, live.length);
        for (const row of live) {
          if (action === 'Cascade') {
            seen.add(`${child.name}|${row.id}`);
            await visit(child, row);
          } else {
            const key = `${child.name}|${row.id}`;
            const entry = clears.get(key) ?? { d: child, record: row, fields: [] };
            entry.fields.push(field);
            clears.set(key, entry);
          }
        }
      }
    }
  };
  for (const record of records) seen.add(`${descriptor.name}|${record.id}`);
  for (const record of records) await visit(descriptor, record);

  const out: Model[] = [];
  const deleted = new Set(deletes.map(({ d, record: r }) => `${d.name}|${r.id}`));
  for (const { d, record: r, fields } of clears.values()) {
    if (deleted.has(`${d.name}|${r.id}`)) continue;
    const current = r._raw as unknown as RawRow;
    const payload: Record<string, unknown> = {};
    const base: Record<string, unknown> = {};
    for (const field of fields) {
      payload[field.name] = null;
      base[field.name] = rawToWire(field, current[field.column]);
    }
    const plan = await ctx.queue.plan({
      entity: d.name,
      entityId: r.id,
      operation: 'update',
      payload,
      base,
      baseVersion: current[SYNC_COLUMNS.version] as number,
    });
    out.push(
      r.prepareUpdate((m) => {
        for (const field of fields) m._setRaw(field.column, null);
      }),
      ...ctx.queue.prepare(plan),
    );
  }
  // Children first, so the queue sends their deletes in a sensible order too.
  for (const { d, record: r } of deletes.reverse()) {
    const plan = await ctx.queue.plan({
      entity: d.name,
      entityId: r.id,
      operation: 'delete',
      payload: {},
      baseVersion: (r._raw as unknown as RawRow)[SYNC_COLUMNS.version] as number,
    });
    out.push(
      plan.decision.kind === 'cancel' ? r.prepareDestroyPermanently() : r.prepareUpdate((m) => m._setRaw(SYNC_COLUMNS.deletedAt, Date.now())),
      ...ctx.queue.prepare(plan),
    );
  }
  return out;
}
