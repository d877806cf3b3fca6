/**
 * `trackhub-gen inspect` on files that are not device databases: clear errors,
 * exit 2, nothing created or changed. (The inspector on a real device database
 * is proved in test/e2e/observability.e2e.test.ts.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trackhub-gen inspect: not a device database', () => {
  it('a missing file: exit 2, and the file is not created', async () => {
    const file = path.join(dir, 'trackhub_db_t1.db');
    const run = await runCli(['inspect', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: no such device database: ${file}`);
    expect(existsSync(file)).toBe(false);
  });

  it('a text file: exit 2 "not a SQLite database"', async () => {
    const file = path.join(dir, 'notes.db');
    writeFileSync(file, 'hello, not sqlite at all'.repeat(50));
    const run = await runCli(['inspect', file, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not a SQLite database/);
    expect(run.stdout).toBe('');
  });

  it('a SQLite database of something else: exit 2 naming the missing runtime tables, file unchanged', async () => {
    const file = path.join(dir, 'other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE sync_state (entity TEXT); CREATE TABLE notes (body TEXT)');
    db.close();
    const before = readFileSync(file);
    const run = await runCli(['inspect', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: ${file} is not a trackhub device database: no operation_queue, uploads, conflicts tables`);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
