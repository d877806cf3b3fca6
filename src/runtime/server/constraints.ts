/**
 * Database constraint violations of one pushed item (or CRUD input) as stable
 * per-item codes naming the fields, instead of INTERNAL (which devices retry until
 * they give up): a user `@@unique` hit (UNIQUE_VIOLATION, also when a soft-deleted
 * record holds the values), a value too long for its column (VALUE_TOO_LONG), a
 * value the column type cannot hold (INVALID_VALUE), a foreign key to a missing row
 * (REFERENCE_NOT_FOUND). Most are caught before writing (codec.ts nativeTypeProblem,
 * store.ts resolveRelations); this is what the database itself reports.
 */
import type { Principal } from './auth.js';
import type { EntityDescriptor } from './descriptor.js';
import { ItemError, SyncErrorCode } from './errors.js';
import { delegateOf, type Row } from './prisma.js';
import { tenantScope } from './store.js';

interface PrismaLikeError {
  code?: unknown;
  message?: unknown;
  meta?: {
    target?: unknown;
    field_name?: unknown;
    column_name?: unknown;
    driverAdapterError?: { cause?: { kind?: unknown; constraint?: { fields?: unknown; index?: unknown }; column?: unknown } };
  };
}

const asFields = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);

/** The fields a Prisma error names (unique target, foreign key field, column), as far as the driver says. */
function fieldsOf(d: EntityDescriptor, e: PrismaLikeError): string[] {
  const cause = e.meta?.driverAdapterError?.cause;
  const raw = [
    ...asFields(e.meta?.target),
    ...asFields(cause?.constraint?.fields),
    ...asFields(e.meta?.field_name),
    ...asFields(e.meta?.column_name),
    ...asFields(cause?.column),
    ...asFields(cause?.constraint?.index),
  ];
  const known = new Set(d.fields.map((f) => f.name));
  // Constraint or index names (`Collection_teamId_title_key`) and quoted columns name fields too.
  const found = new Set<string>();
  for (const r of raw) for (const name of known) if (r === name || new RegExp(`(^|[_."(\\s])${name}($|[_."),\\s])`).test(r)) found.add(name);
  return [...found];
}

/** The per-item error for a database constraint violation, or undefined when `error` is not one. */
export async function constraintError(
  client: unknown,
  d: EntityDescriptor,
  principal: Principal,
  error: unknown,
  data: Row,
): Promise<ItemError | undefined> {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as PrismaLikeError;
  const kind = e.meta?.driverAdapterError?.cause?.kind;
  const message = typeof e.message === 'string' ? e.message : '';
  const fields = fieldsOf(d, e);
  const named = fields.length ? fields.join(', ') : 'a field';
  if (e.code === 'P2002' || kind === 'UniqueConstraintViolation') {
    const key = d.uniques?.find((u) => fields.length && fields.every((f) => u.includes(f))) ?? fields;
    if (key.includes('clientId')) return undefined;
    const held = await heldByDeleted(client, d, principal, key, data);
    return new ItemError(
      SyncErrorCode.UNIQUE_VIOLATION,
      `${key.join(', ') || named}: another ${d.name} already has ${key.length > 1 ? 'these values' : 'this value'}` +
        (held ? ` (a deleted ${d.name} keeps holding them: deleted records keep their values)` : ''),
    );
  }
  if (e.code === 'P2000' || kind === 'LengthMismatch') return new ItemError(SyncErrorCode.VALUE_TOO_LONG, `${named}: the value is too long for its column`);
  if (e.code === 'P2003' || kind === 'ForeignKeyConstraintViolation')
    return new ItemError(SyncErrorCode.REFERENCE_NOT_FOUND, `${named}: no such record to refer to`);
  if (e.code === 'P2023' || e.code === 'P2007' || /invalid input syntax for type uuid|Error creating UUID/i.test(message))
    return new ItemError(SyncErrorCode.INVALID_VALUE, `${named}: the value does not fit its column type`);
  return undefined;
}

/** Whether a soft-deleted record of the tenant holds `data`'s values of `key`. */
async function heldByDeleted(client: unknown, d: EntityDescriptor, principal: Principal, key: readonly string[], data: Row): Promise<boolean> {
  const values = key.filter((k) => k !== d.tenantField);
  if (!values.length || values.some((k) => data[k] === undefined)) return false;
  const deleted = { [d.tombstoneField]: { not: null } };
  try {
    const row = await delegateOf(client, d.delegate).findFirst({
      where: { ...tenantScope(d, principal), ...Object.fromEntries(values.map((k) => [k, data[k]])), ...deleted },
      select: { id: true },
    });
    return Boolean(row);
  } catch {
    return false;
  }
}
