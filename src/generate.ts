/**
 * The pipeline as a library: schema -> model -> emitters -> plan.
 */
import { emitClient } from './emitters/client/index.js';
import { emitGraphql } from './emitters/graphql/index.js';
import { emitProject } from './emitters/project/index.js';
import { emitServer } from './emitters/server/index.js';
import type { EmitOptions, Emitter } from './emitters/types.js';
import { loadProject } from './model/build.js';
import type { ProjectIR } from './model/types.js';
import { buildPlan, type PlannedFile } from './plan/plan.js';

export const emitters: Emitter[] = [emitServer, emitClient, emitGraphql, emitProject];

export async function planProject(project: ProjectIR, options: EmitOptions): Promise<PlannedFile[]> {
  return buildPlan(project, emitters, options);
}

export async function planFromSchema(schemaPath: string, options: EmitOptions): Promise<{ project: ProjectIR; plan: PlannedFile[] }> {
  const project = await loadProject(schemaPath);
  return { project, plan: await planProject(project, options) };
}
