/**
 * Compare a plan with the disk, then write it, print it (--dry-run) or diff it (check).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Generated files (carrying our header) under the given roots of outDir. */
async function generatedFilesOnDisk(outDir: string, roots: string[]): Promise<string[]> {
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
      } else if (entry.isFile()) {
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
  for (const file of plan) {
    const before = await readIfExists(path.join(outDir, file.path));
    let status: FileStatus;
    if (before === undefined) status = 'created';
    else if (file.owner === 'user') status = 'kept';
    else status = before === file.content ? 'unchanged' : 'changed';
    changes.push({ path: file.path, status, owner: file.owner, before, after: file.content });
  }
  if (opts.deleteStale) {
    const planned = new Set(plan.map((f) => f.path));
    const roots = [...new Set(plan.filter((f) => f.owner === 'generator').map((f) => f.path.split('/')[0]))];
    for (const rel of await generatedFilesOnDisk(outDir, roots)) {
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

/** File-system operations applyChanges uses; tests inject faults through them. */
export interface WriteFs {
  rename(from: string, to: string): Promise<void>;
  writeFile(file: string, text: string): Promise<void>;
}

const realFs: WriteFs = { rename, writeFile: (f, t) => writeFile(f, t, 'utf8') };

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write the changes, all or nothing. Every new content is first written next to its
 * target under a temporary name. Then each target is moved aside to a backup and the
 * new file renamed into place; if any step fails, every target already replaced is
 * restored from its backup, so a failed `generate` leaves the previous output as it was.
 */
export async function applyChanges(changes: FileChange[], outDir: string, fs: WriteFs = realFs): Promise<void> {
  const toWrite = changes.filter((c) => c.status === 'created' || c.status === 'changed');
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staged: { tmp: string; target: string }[] = [];
  const placed: { target: string; backup?: string }[] = [];
  try {
    for (const change of toWrite) {
      const target = path.join(outDir, change.path);
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.trackhub-tmp-${tag}`;
      staged.push({ tmp, target });
      await fs.writeFile(tmp, change.after!);
    }
    for (const { tmp, target } of staged) {
      const backup = (await exists(target)) ? `${target}.trackhub-bak-${tag}` : undefined;
      if (backup) await fs.rename(target, backup);
      placed.push({ target, ...(backup ? { backup } : {}) });
      await fs.rename(tmp, target);
    }
  } catch (err) {
    for (const { target, backup } of placed.reverse()) {
      await rm(target, { recursive: true, force: true });
      if (backup) await rename(backup, target);
    }
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  await Promise.all(placed.filter((p) => p.backup).map((p) => rm(p.backup!, { recursive: true, force: true })));
  for (const change of changes.filter((c) => c.status === 'deleted')) {
    await rm(path.join(outDir, change.path), { force: true });
  }
}
