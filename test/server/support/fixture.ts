/** The fixture project's descriptors, built the way the emitter builds them. */
import { descriptorOf } from '../../../src/emitters/server/index.js';
import { loadProject } from '../../../src/model/build.js';
import type { ProjectIR } from '../../../src/model/types.js';
import type { EntityDescriptor } from '../../../src/runtime/server/index.js';
import { FIXTURE_SCHEMA } from './prisma.js';

let project: Promise<ProjectIR> | undefined;

export function fixtureProject(): Promise<ProjectIR> {
  project ??= loadProject(FIXTURE_SCHEMA);
  return project;
}

export async function fixtureDescriptors(): Promise<EntityDescriptor[]> {
  const p = await fixtureProject();
  return p.entities.map((e) => descriptorOf(e, p));
}

/** `{ req: { headers: { authorization } } }` for a dev token. */
export function contextFor(tenantId: string, userId = 'u1'): { req: { headers: Record<string, string> } } {
  return { req: { headers: { authorization: `Bearer dev:${tenantId}:${userId}` } } };
}
