/**
 * The pipeline as a library: schema -> model -> emitters -> plan.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { CLIENT_SNAPSHOT_PATH, emitClient } from './emitters/client/index.js';
import { parseSnapshot, type ClientSchemaSnapshot } from './emitters/client/schema-snapshot.js';
import { emitGraphql } from './emitters/graphql/index.js';
import { emitTypedOperations } from './emitters/graphql/operations.js';
import { emitOps } from './emitters/ops/index.js';
import { emitServer } from './emitters/server/index.js';
import { TARGETS, type AsyncEmitter, type EmitOptions, type Emitter, type Target } from './emitters/types.js';
import type { ProjectIR } from './model/types.js';
import { noFormatCache, type FormatCache } from './plan/format.js';
import { buildPlan, type PlannedFile } from './plan/plan.js';

/**
 * The emitters of each target, in output order. The typed online operations
 * (GraphQL Code Generator) belong to the client, whose services use them.
 */
export const emittersOf: Record<Target, (Emitter | AsyncEmitter)[]> = {
  server: [emitServer],
  client: [emitClient, emitTypedOperations],
  graphql: [emitGraphql],
  ops: [emitOps],
};
export const emitters: (Emitter | AsyncEmitter)[] = TARGETS.flatMap((t) => emittersOf[t]);

/** The plan of a project; `formatCache` (see plan/format.ts) only saves time, the files are the same. */
export async function planProject(project: ProjectIR, options: EmitOptions, formatCache: FormatCache = noFormatCache): Promise<PlannedFile[]> {
  const targets = options.targets ?? TARGETS;
  return buildPlan(project, TARGETS.filter((t) => targets.includes(t)).flatMap((t) => emittersOf[t]), options, formatCache);
}

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
