/**
 * Compare a plan with the disk, then write it, print it (--dry-run) or diff it (check).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { createTwoFilesPatch } from 'diff';

import { isGeneratedText, type PlannedFile } from './plan.js';

export type FileStatus = 'created' | 'changed' | 'unchanged' | 'kept' | 'deleted';

export interface FileChange {
  path: string;
  status: FileStatus;
  owner: 'generator' | 'user';
  before?: string;
  after?: string;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // ENOTDIR: a file where one of the path's directories should be (the write step reports it)
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

/** Runs `fn` over `items`, `limit` at a time; results in the order of `items`. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Generated files (carrying our header) under the given roots of outDir; files in `known` are not read. */
async function generatedFilesOnDisk(outDir: string, roots: string[], known: ReadonlySet<string>): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(outDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) await walk(child);
      } else if (entry.isFile() && !known.has(child)) {
        const text = await readIfExists(path.join(outDir, child));
        if (text !== undefined && isGeneratedText(text)) found.push(child);
      }
    }
  };
  for (const root of roots) await walk(root);
  return found;
}

/**
 * What applying the plan would do. `scope` limits deletion of stale generated files
 * (a full `generate` passes true; `entity <Name>` never deletes).
 */
export async function comparePlan(plan: PlannedFile[], outDir: string, opts: { deleteStale: boolean }): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  const existing = await mapLimit(plan, IO_CONCURRENCY, (file) => readIfExists(path.join(outDir, file.path)));
  for (const [i, file] of plan.entries()) {
    const before = existing[i];
    let status: FileStatus;
    if (before === undefined) status = 'created';
    else if (file.owner === 'user') status = 'kept';
    else status = before === file.content ? 'unchanged' : 'changed';
    changes.push({ path: file.path, status, owner: file.owner, before, after: file.content });
  }
  if (opts.deleteStale) {
    const planned = new Set(plan.map((f) => f.path));
    const roots = [...new Set(plan.filter((f) => f.owner === 'generator').map((f) => f.path.split('/')[0]))];
    // A planned path is never stale: only the other files are read for the generated header.
    for (const rel of await generatedFilesOnDisk(outDir, roots, planned)) {
      if (!planned.has(rel)) {
        changes.push({ path: rel, status: 'deleted', owner: 'generator', before: await readIfExists(path.join(outDir, rel)) });
      }
    }
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Drift for `check`: generator-owned files that differ, are missing or are stale. */
export function drifted(changes: FileChange[]): FileChange[] {
  return changes.filter((c) => c.owner === 'generator' && c.status !== 'unchanged' && c.status !== 'kept');
}

export function unifiedDiff(change: FileChange): string {
  return createTwoFilesPatch(
    `a/${change.path}`,
    `b/${change.path}`,
    change.before ?? '',
    change.status === 'deleted' ? '' : change.after ?? '',
    change.status === 'created' ? '(missing on disk)' : '(on disk)',
    change.status === 'deleted' ? '(no longer generated)' : '(generated)',
  );
}

/** File-system operations applyChanges uses; tests inject faults (and pauses) through them. */
export interface WriteFs {
  rename(from: string, to: string): Promise<void>;
  writeFile(file: string, text: string): Promise<void>;
  /** Called at each step (`stage:<n>`, `replace:<n>`, `committed`); a test may stop the process there. */
  checkpoint?(point: string): Promise<void>;
}

export const realFs: WriteFs = { rename, writeFile: (f, t) => writeFile(f, t, 'utf8') };

/**
 * The real file system, stopping for good at `point` (e.g. `stage:3`, `replace:5`,
 * `committed`) after saying so on stderr, so a test can kill the process at a precise
 * step of `generate` (the CLI uses it when TRACKHUB_TEST_PAUSE_AT is set).
 */
export function pausingFs(point: string): WriteFs {
  return {
    ...realFs,
    checkpoint: async (at) => {
      if (at !== point) return;
      process.stderr.write(`trackhub-gen: paused at ${at}\n`);
      await new Promise<never>(() => setInterval(() => undefined, 1 << 30));
    },
  };
}

/** How many file operations `generate` keeps in flight at once. */
const IO_CONCURRENCY = 16;

/** An error of a file operation, with the file it was about. */
class PathError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`${file}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

async function at<T>(file: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new PathError(file, err);
  }
}

/**
 * Runs `task` over `items` with at most IO_CONCURRENCY in flight; results in item order.
 * On the first failure no new task starts, the ones in flight are awaited (so nothing is
 * still writing when the caller rolls back), then that failure is thrown.
 */
async function eachAtOnce<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await task(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IO_CONCURRENCY, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** The file, inside the output directory, that records a `generate` in progress. */
export const JOURNAL_NAME = '.trackhub-generate.journal.json';

interface JournalEntry {
  target: string;
  /** New content staged here; null for a deletion. */
  tmp: string | null;
  /** Where the previous file is moved aside; null when there was none. */
  backup: string | null;
}

interface Journal {
  /** `staging`/`replacing`: roll back to the previous output. `committed`: the new output is in place; remove the backups. */
  phase: 'staging' | 'replacing' | 'committed';
  entries: JournalEntry[];
  /** Directories this run created (removed again on roll back when empty). */
  dirs: string[];
}

/** A write to the output directory failed; the previous output was restored. */
export class OutputWriteError extends Error {
  override name = 'OutputWriteError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const e = cause as NodeJS.ErrnoException;
    super(`cannot write ${file}: ${e?.message ?? String(cause)}`, { cause });
  }
}

/** The journal with its paths relative to `outDir` (`to: 'disk'`) or absolute again (`to: 'memory'`). */
function relocate(journal: Journal, outDir: string, to: 'disk' | 'memory'): Journal {
  const move = (p: string): string => (to === 'disk' ? path.relative(outDir, p) : path.resolve(outDir, p));
  const maybe = (p: string | null): string | null => (p === null ? null : move(p));
  return {
    phase: journal.phase,
    entries: journal.entries.map((e) => ({ target: move(e.target), tmp: maybe(e.tmp), backup: maybe(e.backup) })),
    dirs: journal.dirs.map(move),
  };
}

/** rm -f that also shrugs off a file standing where a directory of the path should be. */
async function removeQuietly(file: string): Promise<void> {
  try {
    await rm(file, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
  }
}

async function writeJournal(outDir: string, journal: Journal): Promise<void> {
  const file = path.join(outDir, JOURNAL_NAME);
  journal = relocate(journal, outDir, 'disk');
  // write-then-rename: a reader sees the old journal or the new one, never half of one
  await writeFile(`${file}.tmp`, JSON.stringify(journal), 'utf8');
  await rename(`${file}.tmp`, file);
}

/**
 * Finishes what an interrupted `generate` (killed, crashed, power cut before the
 * journal was renamed) left in `outDir`: before the commit point every replaced
 * file gets its previous content back and every new one is removed; after it, the
 * leftover backups are removed. Then the staged files and the journal go.
 * Resolves whether there was anything to recover. `generate` runs it first.
 */
export async function recoverInterrupted(outDir: string): Promise<boolean> {
  const file = path.join(outDir, JOURNAL_NAME);
  let journal: Journal;
  try {
    journal = relocate(JSON.parse(await readFile(file, 'utf8')) as Journal, outDir, 'memory');
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      await removeQuietly(`${file}.tmp`);
      return false;
    }
    throw err;
  }
  await rollBack(journal);
  await removeQuietly(file);
  await removeQuietly(`${file}.tmp`);
  await removeCreatedDirs(journal);
  return true;
}

async function rollBack(journal: Journal): Promise<void> {
  const committed = journal.phase === 'committed';
  let failure: unknown = null;
  for (const entry of [...journal.entries].reverse()) {
    try {
      if (committed) {
        if (entry.backup) await removeQuietly(entry.backup);
      } else if (entry.backup && (await exists(entry.backup))) {
        // the previous file was moved aside (and maybe replaced): put it back
        await rename(entry.backup, entry.target);
      } else if (!entry.backup && entry.tmp && !(await exists(entry.tmp)) && journal.phase === 'replacing') {
        // a new file, already moved into place: remove it
        await removeQuietly(entry.target);
      }
      if (entry.tmp) await removeQuietly(entry.tmp);
    } catch (err) {
      failure ??= err; // go on with the others; the journal stays for another try
    }
  }
  if (failure) throw failure;
}

/** Removes the directories a rolled-back run created, where empty (call once the journal is gone). */
async function removeCreatedDirs(journal: Journal): Promise<void> {
  if (journal.phase === 'committed') return;
  for (const dir of [...journal.dirs].reverse()) {
    try {
      await rmdir(dir);
    } catch {
      // not empty (someone else's files) or already gone
    }
  }
}

/**
 * Write the changes, all or nothing, even if the process is killed. A journal in
 * the output directory lists every file first; every new content is then written
 * next to its target under a temporary name; then each target is moved aside to a
 * backup and the new file renamed into place. The journal's switch to `committed`
 * is the commit point. If a step fails, everything is rolled back at once; if the
 * process dies, the next `generate` (recoverInterrupted) rolls back or finishes,
 * so the output is always the previous one or the new one, never a mix.
 */
export async function applyChanges(changes: FileChange[], outDir: string, fs: WriteFs = realFs): Promise<void> {
  await recoverInterrupted(outDir);
  const toWrite = changes.filter((c) => c.status === 'created' || c.status === 'changed' || c.status === 'deleted');
  if (toWrite.length === 0) return;
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const journal: Journal = { phase: 'staging', entries: [], dirs: [] };
  const contents = new Map<string, string>();
  let current = outDir;
  /** mkdir -p, remembering the levels it created; true when it created any. */
  const track = async (dir: string): Promise<boolean> => {
    current = dir;
    const first = await mkdir(dir, { recursive: true });
    if (!first) return false;
    const created: string[] = [];
    for (let d = dir; d.length >= first.length; d = path.dirname(d)) created.unshift(d);
    journal.dirs.push(...created);
    return true;
  };
  const saveJournal = async (): Promise<void> => {
    current = path.join(outDir, JOURNAL_NAME);
    await writeJournal(outDir, journal);
  };
  try {
    await track(outDir);
    const previous = await eachAtOnce(toWrite, async (change) => exists(path.join(outDir, change.path)));
    toWrite.forEach((change, i) => {
      const target = path.join(outDir, change.path);
      const deletion = change.status === 'deleted';
      if (deletion && !previous[i]) return;
      if (!deletion) contents.set(target, change.after!);
      journal.entries.push({
        target,
        tmp: deletion ? null : `${target}.trackhub-tmp-${tag}`,
        backup: previous[i] ? `${target}.trackhub-bak-${tag}` : null,
      });
    });
    // Every directory the new files need, created before the journal that lists them is saved.
    const dirs = [...new Set(journal.entries.filter((e) => e.tmp).map((e) => path.dirname(e.target)))].sort();
    for (const dir of dirs) await track(dir);
    await saveJournal();
    let n = 0;
    await eachAtOnce(journal.entries, async (entry) => {
      if (!entry.tmp) return;
      await at(entry.tmp, () => fs.writeFile(entry.tmp!, contents.get(entry.target)!));
      await fs.checkpoint?.(`stage:${++n}`);
    });
    journal.phase = 'replacing';
    await saveJournal();
    n = 0;
    // Each entry's own steps stay in order (move aside, then move in); entries are independent,
    // and the journal's roll back handles every entry in any state.
    await eachAtOnce(journal.entries, async (entry) => {
      await at(entry.target, async () => {
        if (entry.backup) await fs.rename(entry.target, entry.backup);
        if (entry.tmp) await fs.rename(entry.tmp, entry.target);
      });
      await fs.checkpoint?.(`replace:${++n}`);
    });
    journal.phase = 'committed';
    await saveJournal();
  } catch (err) {
    try {
      await rollBack(journal);
      await removeQuietly(path.join(outDir, JOURNAL_NAME));
      await removeQuietly(path.join(outDir, `${JOURNAL_NAME}.tmp`));
      await removeCreatedDirs(journal);
    } catch {
      // the journal (if it was written) lets the next generate finish the roll back
    }
    const failed = err instanceof PathError ? err.file : current;
    const cause = err instanceof PathError ? err.cause : err;
    throw new OutputWriteError(path.relative(process.cwd(), failed) || failed, cause);
  }
  await fs.checkpoint?.('committed');
  await recoverInterrupted(outDir); // removes the backups and the journal
}
