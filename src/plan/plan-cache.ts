/**
 * The plans of the last runs, by hash of everything a plan is made of, so that a warm
 * `check` or `generate` of an unchanged schema skips parsing, emitting and formatting.
 *
 * A plan is a pure function of: the schema files (display name and text), the emit
 * options (runtime specifiers, targets, and the client schema snapshot committed in the
 * output folder), and the generator itself. The key hashes all of it; the generator is
 * fingerprinted by the path, size and modification time of every file of its package's
 * `dist`, `src` and `templates` folders, plus the prettier version it formats with. Any
 * change of any of them is another key: the plan is computed again.
 *
 * What a cached plan is compared with is always read from disk: `check` still reports
 * every drifted, missing or stale file. Entries live next to the format cache
 * (`node_modules/.cache/trackhub-gen`, or TRACKHUB_GEN_CACHE_DIR; TRACKHUB_GEN_CACHE=off
 * turns both off), at most `KEEP` of them; `check` reads them and never writes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { EmitOptions } from '../emitters/types.js';
import type { ProjectIR } from '../model/types.js';
import { cacheDir, prettierVersion, type FormatCacheOptions } from './format.js';
import type { PlannedFile } from './plan.js';

/** What a run needs of a project besides its plan. */
export interface CachedPlan {
  plan: PlannedFile[];
  /** The @sync models, in order. */
  entities: string[];
  warnings: NonNullable<ProjectIR['warnings']>;
}

export interface PlanCache {
  get(key: string): CachedPlan | undefined;
  save(key: string, value: CachedPlan): void;
}

/** Entries kept: a few schemas (or branches) in turn stay warm. */
export const KEEP = 4;
const PREFIX = 'plan-v1-';

const noPlanCache: PlanCache = { get: () => undefined, save: () => {} };

let fingerprint: string | undefined;

/** The generator's own fingerprint (see the header); computed once per process. */
export function generatorFingerprint(): string {
  if (fingerprint) return fingerprint;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const hash = createHash('sha256').update(`prettier ${prettierVersion}\n`);
  for (const folder of ['dist', 'src', 'templates']) {
    const dir = path.join(root, folder);
    if (!existsSync(dir)) continue;
    const names = (readdirSync(dir, { recursive: true }) as string[]).sort();
    for (const name of names) {
      const stat = statSync(path.join(dir, name));
      if (stat.isFile()) hash.update(`${folder}/${name} ${stat.size} ${stat.mtimeMs}\n`);
    }
  }
  return (fingerprint = hash.digest('hex'));
}

/** The key of a plan's inputs. */
export function planKey(input: { generator: string; files: ReadonlyArray<{ file: string; text: string }>; options: EmitOptions }): string {
  const hash = createHash('sha256').update(`${input.generator}\n`);
  for (const f of input.files) hash.update(`${f.file}\n${f.text.length}\n${f.text}\n`);
  hash.update(JSON.stringify(input.options));
  return hash.digest('hex');
}

/** The plan cache of the working directory (see the header); read-only for `check`. */
export function openPlanCache(options: FormatCacheOptions): PlanCache {
  const dir = cacheDir(options);
  if (!dir) return noPlanCache;
  return {
    get(key) {
      try {
        return JSON.parse(readFileSync(path.join(dir, `${PREFIX}${key}.json`), 'utf8')) as CachedPlan;
      } catch {
        return undefined; // missing or unreadable: plan again
      }
    },
    save(key, value) {
      if (options.readOnly) return;
      try {
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${PREFIX}${key}.json`);
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(value));
        renameSync(tmp, file);
        const entries = readdirSync(dir)
          .filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'))
          .map((n) => ({ n, t: statSync(path.join(dir, n)).mtimeMs }))
          .sort((a, b) => b.t - a.t);
        for (const old of entries.slice(KEEP)) unlinkSync(path.join(dir, old.n));
      } catch {
        // A cache that cannot be written only costs time next run.
      }
    },
  };
}
