/**
 * Large batches on the device's SQLite adapter (real WatermelonDB, real better-sqlite3
 * file): WatermelonDB drops and recreates every index of every table around a batch of
 * 1,000 operations or more; the runtime's adapter rebuilds only the indices of the
 * tables the batch inserts at least as many rows into as they held. What reaches the
 * driver is observed beneath the runtime's wrapper.
 */
import path from 'node:path';

import { Database } from '@nozbe/watermelondb';
import { afterEach, describe, expect, it } from 'vitest';

import { rebuildOnlyInsertedIndices, SQLiteAdapter } from '../../src/runtime/client/sqlite.js';
import { Note, schema, Space, Tag } from './support/app.js';
import { closeNodeDatabase, tempDir } from './support/helpers.js';

type Operation = [number, string | null, string, unknown[][]];

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A database whose adapter records the operations of every batch the driver receives. */
function open(rebuildInsertedOnly: boolean) {
  const tmp = tempDir();
  const adapter = new SQLiteAdapter({ dbName: path.join(tmp.dir, 'device'), schema });
  const dispatcher = (adapter as unknown as { _dispatcher: { call(name: string, args: unknown[], callback: unknown): void } })._dispatcher;
  const call = dispatcher.call.bind(dispatcher);
  const batches: Operation[][] = [];
  dispatcher.call = (name, args, callback) => {
    if (name === 'batch') batches.push(args[0] as Operation[]);
    call(name, args, callback);
  };
  if (rebuildInsertedOnly) rebuildOnlyInsertedIndices(adapter);
  const database = new Database({ adapter, modelClasses: [Space, Note, Tag] });
  cleanups.push(() => {
    closeNodeDatabase(database);
    tmp.cleanup();
  });
  return { database, batches };
}

const indexOps = (ops: Operation[]) => ops.filter((op) => /^(drop|create) index/.test(op[2])).map((op) => op[2]);
const tablesOf = (sqls: string[]) => [...new Set(sqls.filter((s) => s.startsWith('create')).map((s) => / on "([^"]+)"/.exec(s)![1]))].sort();

async function insertSpaces(database: Database, n: number): Promise<Space[]> {
  return database.write(async () => {
    const spaces = database.get<Space>('spaces');
    const prepared = Array.from({ length: n }, (_, i) =>
      spaces.prepareCreate((s) => {
        s._setRaw('name', `s${i}`);
        s._setRaw('kind', 'TEAM');
        s._setRaw('position', i);
        s._setRaw('owner_id', i % 2 ? 'a' : 'b');
      }),
    );
    await database.batch(prepared);
    return prepared;
  });
}

describe('index rebuilds around large batches', () => {
  it('WatermelonDB alone rebuilds the indices of every table, even for a batch that only updates', async () => {
    const { database, batches } = open(false);
    const spaces = await insertSpaces(database, 1200);
    expect(tablesOf(indexOps(batches.at(-1)!))).toEqual(Object.keys(schema.tables).sort());
    await database.write(() => database.batch(spaces.map((s) => s.prepareUpdate((x) => x._setRaw('position', 1)))));
    expect(indexOps(batches.at(-1)!).length).toBeGreaterThan(0);
  });

  it('the runtime rebuilds only the inserted tables, all of their indices, and the data and lookups stay right', async () => {
    const { database, batches } = open(true);
    const spaces = await insertSpaces(database, 1200);
    const inserted = indexOps(batches.at(-1)!);
    expect(tablesOf(inserted)).toEqual(['spaces']);
    // Every index of the table is dropped and created again: its indexed columns and _status.
    const spaceIndices = [...schema.tables.spaces!.columnArray.filter((c) => c.isIndexed).map((c) => `spaces_${c.name}`), 'spaces__status'].sort();
    expect(inserted.filter((s) => s.startsWith('drop')).map((s) => /"([^"]+)"/.exec(s)![1]).sort()).toEqual(spaceIndices);
    expect(inserted.filter((s) => s.startsWith('create')).map((s) => /"([^"]+)"/.exec(s)![1]).sort()).toEqual(spaceIndices);

    await database.write(() => database.batch(spaces.map((s, i) => s.prepareUpdate((x) => x._setRaw('server_id', `srv-${i}`)))));
    expect(indexOps(batches.at(-1)!)).toEqual([]);
    await database.write(() => database.batch(spaces.slice(0, 1100).map((s) => s.prepareDestroyPermanently())));
    expect(indexOps(batches.at(-1)!)).toEqual([]);

    const { Q } = await import('@nozbe/watermelondb');
    const left = database.get<Space>('spaces');
    expect(await left.query().fetchCount()).toBe(100);
    const [found] = await left.query(Q.where('server_id', 'srv-1150')).fetch();
    expect(found?.id).toBe(spaces[1150]!.id);
  });

  it('keeps the indices of a table that holds more rows than the batch inserts, and they stay in use and right', async () => {
    const { database, batches } = open(true);
    await insertSpaces(database, 2500);
    expect(tablesOf(indexOps(batches.at(-1)!))).toEqual(['spaces']);
    // 1,200 more into 2,500: the indices are kept and updated row by row.
    const more = await insertSpaces(database, 1200);
    expect(indexOps(batches.at(-1)!)).toEqual([]);
    // 3,700 more into 3,700: rebuilt again.
    await insertSpaces(database, 3700);
    expect(tablesOf(indexOps(batches.at(-1)!))).toEqual(['spaces']);
    await database.write(() => database.batch(more.map((s, i) => s.prepareUpdate((x) => x._setRaw('server_id', `more-${i}`)))));

    const { Q } = await import('@nozbe/watermelondb');
    const spaces = database.get<Space>('spaces');
    expect(await spaces.query().fetchCount()).toBe(7400);
    const [found] = await spaces.query(Q.where('server_id', 'more-7')).fetch();
    expect(found?.id).toBe(more[7]!.id);
    const plan = (await spaces.query(Q.unsafeSqlQuery(`explain query plan select * from "spaces" where "server_id" = 'more-7'`)).unsafeFetchRaw()) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX spaces_server_id/);
  });

  it('leaves batches under 1,000 operations as WatermelonDB encodes them', async () => {
    const { database, batches } = open(true);
    await insertSpaces(database, 999);
    expect(indexOps(batches.at(-1)!)).toEqual([]);
    expect(batches.at(-1)!.length).toBe(1);
  });
});
