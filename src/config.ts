import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { defaultEmitOptions, TARGETS, type EmitOptions, type Target } from './emitters/types.js';

/** `trackhub.config.json`: defaults for the CLI, looked up in the working directory. */
export interface TrackhubConfig extends EmitOptions {
  schema: string;
  out: string;
}

export const CONFIG_FILE = 'trackhub.config.json';

export const defaultConfig: TrackhubConfig = {
  schema: 'prisma/schema.prisma',
  out: 'src/sync',
  ...defaultEmitOptions,
};

const KEYS = [...Object.keys(defaultConfig), 'targets'];

export class ConfigError extends Error {}

export async function loadConfig(cwd: string, explicit?: string): Promise<{ config: TrackhubConfig; file?: string }> {
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return { config: { ...defaultConfig } };
    throw new ConfigError(`${file}: cannot read the config file (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message}); fix the file or delete it`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: must be a JSON object`);
  for (const [key, value] of Object.entries(raw)) {
    if (key === '$schema') continue;
    if (!KEYS.includes(key)) throw new ConfigError(`${file}: unknown key "${key}"; known keys: ${KEYS.join(', ')}`);
    if (key === 'targets') {
      if (!Array.isArray(value) || value.length === 0 || value.some((t) => !(TARGETS as readonly unknown[]).includes(t)))
        throw new ConfigError(`${file}: "targets" must be a non-empty array of ${TARGETS.map((t) => `"${t}"`).join(', ')}`);
      continue;
    }
    if (typeof value !== 'string') throw new ConfigError(`${file}: "${key}" must be a string`);
  }
  const dir = path.dirname(file);
  const merged: TrackhubConfig = { ...defaultConfig, ...(raw as Partial<TrackhubConfig>) };
  if (merged.targets) merged.targets = [...new Set(merged.targets as Target[])];
  // Paths in the config file are relative to the file itself.
  merged.schema = path.relative(cwd, path.resolve(dir, merged.schema)) || '.';
  merged.out = path.relative(cwd, path.resolve(dir, merged.out)) || '.';
  return { config: merged, file };
}
