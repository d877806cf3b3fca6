/**
 * The device's statement cache on a real better-sqlite3 connection: a statement is
 * prepared once per SQL text, stays correct across a schema change, and a full cache
 * starts over instead of growing.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { MAX_STATEMENTS, statementFor } from '../../src/runtime/client/statement-cache.js';

function counted() {
  const db = new Database(':memory:');
  let prepares = 0;
  const connection = {
    prepare(sql: string) {
      prepares += 1;
      return db.prepare(sql);
    },
  };
  return { db, connection, prepares: () => prepares };
}

describe('statement cache', () => {
  it('prepares a statement once per SQL text and gives the same rows', () => {
    const { db, connection, prepares } = counted();
    db.exec('create table t (id text primary key, n integer)');
    for (let i = 0; i < 50; i++) statementFor(connection, 'insert into t (id, n) values (?, ?)').run([`r${i}`, i]);
    expect(prepares()).toBe(1);
    expect(statementFor(connection, 'select count(*) as c from t').all([])).toEqual([{ c: 50 }]);
    expect(prepares()).toBe(2);
  });

  it('a cached statement sees a column added after it was prepared (a migration)', () => {
    const { db, connection } = counted();
    db.exec('create table t (id text primary key)');
    const select = 'select * from t';
    expect(statementFor(connection, select).all([])).toEqual([]);
    db.exec("alter table t add column name text default 'x'");
    db.exec("insert into t (id) values ('a')");
    expect(statementFor(connection, select).all([])).toEqual([{ id: 'a', name: 'x' }]);
  });

  it('starts over when full, so it never holds more than MAX_STATEMENTS', () => {
    const { connection, prepares } = counted();
    for (let i = 0; i <= MAX_STATEMENTS; i++) statementFor(connection, `select ${i} as v`);
    expect(prepares()).toBe(MAX_STATEMENTS + 1);
    // The first one went with the rest: prepared again.
    expect(statementFor(connection, 'select 0 as v').all([])).toEqual([{ v: 0 }]);
    expect(prepares()).toBe(MAX_STATEMENTS + 2);
    // The last one stayed.
    statementFor(connection, `select ${MAX_STATEMENTS} as v`);
    expect(prepares()).toBe(MAX_STATEMENTS + 2);
  });
});
