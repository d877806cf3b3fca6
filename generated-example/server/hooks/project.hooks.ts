import type { EntityHooks } from '../generated/runtime.js';

/** The part of the Prisma client the read rule uses (the server's PrismaClient has it). */
interface Memberships {
  projectMember: { findMany(args: object): Promise<Array<{ projectId: string; userId: string }>> };
}

/**
 * Your hooks for Project: created once by trackhub-gen, never overwritten.
 * The generated server calls them on every device push and online CRUD write,
 * and `read` on every pull and online read.
 *
 * Example project: a Project with members is private to them; one without members is
 * open to its whole tenant. Tasks and their notes follow their Project (their scope
 * path leads to it), so the rule hides them too.
 */
export const projectHooks: EntityHooks = {
  async read({ principal, prisma }) {
    const members = await (prisma as Memberships).projectMember.findMany({
      where: { tenantId: principal.tenantId },
      select: { projectId: true, userId: true },
    });
    const mine = new Set(members.filter((m) => m.userId === principal.userId).map((m) => m.projectId));
    const hidden = [...new Set(members.map((m) => m.projectId))].filter((id) => !mine.has(id)).sort();
    // The rule lists what it hides, so its JSON (the default fingerprint) changes with every
    // membership that changes what this user sees: devices then drop what they may no longer see.
    return hidden.length ? { where: { id: { notIn: hidden } } } : undefined;
  },
};
