/**
 * The pipeline as a library: schema -> model -> emitters -> plan.
 */
import { emitClient } from './emitters/client/index.js';
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

export { emitOptionsFor, readPreviousClientSchema } from './plan/emit-options.js';
