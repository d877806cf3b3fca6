/**
 * Which defaults of a model Prisma's client computes for a create (EntityIR.insertDefaults),
 * as the server's bulk INSERTs reproduce them (runtime/server/bulk-insert.ts).
 */
import type { DmmfModel } from '../schema/prisma-wasm.js';
import type { FieldIR, InsertDefault, JsonValue } from './types.js';

/**
 * EntityIR.insertDefaults: the defaults Prisma's client computes for a create, as the
 * runtime's bulk INSERTs reproduce them, or null when one of them cannot be reproduced.
 */
export function insertDefaultsOf(model: DmmfModel, kept: readonly FieldIR[]): Record<string, InsertDefault> | null {
  const out: Record<string, InsertDefault> = {};
  for (const f of model.fields) {
    if (f.kind === 'object') continue;
    const ir = kept.find((k) => k.name === f.name);
    const value = f.default;
    if (f.isUpdatedAt || isFunctionDefault(value, 'now')) {
      if (!ir) return null;
      out[f.name] = 'now';
    } else if (value === undefined || isFunctionDefault(value, 'autoincrement') || isFunctionDefault(value, 'dbgenerated')) {
      continue; // no default, or the database's own
    } else if (isFunctionDefault(value, 'uuid')) {
      const args = (value as { args?: unknown[] }).args ?? [];
      if (!ir || (args.length > 0 && args[0] !== 4)) return null;
      out[f.name] = 'uuid';
    } else if ((typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && ir && ir.kind !== 'DateTime') {
      if (ir.kind !== 'Json') out[f.name] = { value };
      else if (typeof value === 'string') {
        try {
          out[f.name] = { value: JSON.parse(value) as JsonValue };
        } catch {
          return null;
        }
      } else return null;
    } else return null; // cuid(), nanoid(), ulid(), uuid(7), a list, a date literal, a field left out of the model
  }
  return out;
}

/** A Prisma default that is the function `name` (`uuid()`, `now()`, `autoincrement()`, ...). */
export function isFunctionDefault(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name;
}
