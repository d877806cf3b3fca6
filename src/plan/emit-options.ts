/**
 * The emit options of an output folder: the config's, plus the client schema snapshot
 * committed there (the client migrations are planned from it). No emitter is loaded
 * here, so the CLI can work out a plan's inputs before it needs one (plan-cache.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { CLIENT_SNAPSHOT_PATH, parseSnapshot, type ClientSchemaSnapshot } from '../emitters/client/schema-snapshot.js';
import type { EmitOptions } from '../emitters/types.js';

/** The committed client schema snapshot in `outDir`, if there is one. */
export async function readPreviousClientSchema(outDir: string): Promise<ClientSchemaSnapshot | undefined> {
  const file = path.join(outDir, CLIENT_SNAPSHOT_PATH);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // ENOTDIR: a file where a directory of the output should be; nothing was generated there
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  return parseSnapshot(text, file);
}

/** Emit options for an output directory: the config plus what is committed there. */
export async function emitOptionsFor(outDir: string, options: EmitOptions): Promise<EmitOptions> {
  const previousClientSchema = await readPreviousClientSchema(outDir);
  return {
    runtimeServer: options.runtimeServer,
    runtimeClient: options.runtimeClient,
    ...(options.targets ? { targets: options.targets } : {}),
    ...(previousClientSchema ? { previousClientSchema } : {}),
  };
}
