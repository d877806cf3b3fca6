/**
 * Prepared statements, reused: WatermelonDB's Node driver prepares every statement it
 * runs, once per row of a batch (`prepare(sql).run(args)`), and preparing costs more
 * than running an insert. Keyed by SQL text, per open better-sqlite3 connection, at
 * most `MAX_STATEMENTS` (then the cache starts over). SQLite re-prepares a cached
 * statement by itself after a schema change (migrations), so a cached one never runs
 * against a stale schema.
 */

interface Statement {
  run(args: unknown): unknown;
  get(args: unknown): unknown;
  all(args: unknown): unknown[];
}
interface Connection {
  prepare(sql: string): Statement;
}
interface NodeDriverDatabase {
  instance: Connection | undefined;
}

export const MAX_STATEMENTS = 256;

const caches = new WeakMap<Connection, Map<string, Statement>>();

/** The connection's statement for `sql`, prepared once (a full cache starts over). */
export function statementFor(connection: Connection, sql: string): Statement {
  let cache = caches.get(connection);
  if (!cache) caches.set(connection, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement) return statement;
  statement = connection.prepare(sql);
  if (cache.size >= MAX_STATEMENTS) cache.clear();
  cache.set(sql, statement);
  return statement;
}

/**
 * Makes the driver's `execute` and `queryRaw` (WatermelonDB's sqlite-node `Database`)
 * run cached statements; same results, same errors. A query runs once (the driver's
 * own ran it twice, `get` then `all`).
 */
export function cacheDriverStatements(proto: Record<string, unknown>): void {
  proto.execute = function execute(this: NodeDriverDatabase, query: string, args: unknown[] = []) {
    return statementFor(this.instance!, query).run(args);
  };
  proto.queryRaw = function queryRaw(this: NodeDriverDatabase, query: string, args: unknown[] = []) {
    return statementFor(this.instance!, query).all(args);
  };
}
