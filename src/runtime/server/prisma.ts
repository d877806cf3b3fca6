/**
 * The minimal structural view of a Prisma client the runtime needs.
 *
 * Generated code never imports a Prisma client module: the application passes
 * its own PrismaClient instance (SQLite, PostgreSQL, ...) and the runtime
 * reaches the model delegates by name (`prisma.space`, `prisma.checklistItem`).
 * Only the methods below are used, with plain `where` / `data` objects over
 * scalar fields, so the same generated code runs on every provider.
 */

export type Row = Record<string, unknown>;

export interface PrismaDelegateLike {
  findFirst(args: { where: Row; select?: Record<string, boolean> }): Promise<Row | null>;
  findMany(args: { where?: Row; orderBy?: Row[]; take?: number; select?: Record<string, boolean> }): Promise<Row[]>;
  create(args: { data: Row }): Promise<Row>;
  updateMany(args: { where: Row; data: Row }): Promise<{ count: number }>;
  createMany?(args: { data: Row[] }): Promise<{ count: number }>;
}

export interface PrismaTransactionOptions {
  /** Longest wait for a connection / the write lock, in ms. */
  maxWait?: number;
  /** Longest duration of one interactive transaction, in ms. */
  timeout?: number;
}

/**
 * Anything with an interactive `$transaction`: a PrismaClient instance.
 * (Method syntax on purpose: it keeps every generated PrismaClient assignable.)
 */
export interface PrismaLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: PrismaTransactionOptions): Promise<R>;
}

/** The delegate of one model on a client or transaction client. */
export function delegateOf(client: unknown, name: string): PrismaDelegateLike {
  const delegate = (client as Record<string, unknown> | null)?.[name] as Partial<PrismaDelegateLike> | undefined;
  if (!delegate || typeof delegate.findFirst !== 'function' || typeof delegate.updateMany !== 'function') {
    throw new Error(`The Prisma client has no model delegate "${name}": was it generated from the same schema?`);
  }
  return delegate as PrismaDelegateLike;
}

/** Prisma's error for a unique constraint violation (e.g. a concurrent create with the same clientId). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

const PRISMA_OBJECT_ENUM_VALUE = Symbol.for('prisma.objectEnumValue');

/**
 * Prisma refuses a bare `null` for a nullable `Json` column and wants
 * `Prisma.DbNull`, which lives in each generated client. The client recognises
 * it by a global symbol brand and its name, so this structural stand-in works
 * with any client without importing one.
 */
class DbNullValue {
  readonly [PRISMA_OBJECT_ENUM_VALUE] = true;
  _getName(): string {
    return 'DbNull';
  }
  _getNamespace(): string {
    return 'NullTypes';
  }
  toString(): string {
    return 'Prisma.DbNull';
  }
}

export const prismaDbNull: unknown = new DbNullValue();

/** Is `value` `prismaDbNull` (or any client's `Prisma.DbNull`)? */
export function isPrismaDbNull(value: unknown): boolean {
  if (value === prismaDbNull) return true;
  const v = value as { [PRISMA_OBJECT_ENUM_VALUE]?: unknown; _getName?: () => string } | null;
  return typeof v === 'object' && v !== null && v[PRISMA_OBJECT_ENUM_VALUE] === true && v._getName?.() === 'DbNull';
}
