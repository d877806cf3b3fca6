import { defaultOnDelete, type OnDeleteAction } from '../../contract/fields.js';
import type { EntityDescriptor, FieldDescriptor } from './descriptor.js';
import { SyncErrorCode, TrackhubError } from './errors.js';

/** A relation pointing at an entity: deleting a record of that entity does `action` to `child` records. */
export interface Dependent {
  child: EntityDescriptor;
  /** The child's foreign key field. */
  field: FieldDescriptor;
  action: OnDeleteAction;
}

/**
 * A foreign key whose change moves rows between scopes (partial sync): the key is hop
 * `depth` of `entity`'s scope path (depth 0: the entity's own key). See scopes.ts.
 */
export interface Mover {
  entity: EntityDescriptor;
  depth: number;
}

/** The relation's onDelete, or Prisma's default for a descriptor that does not name one. */
export function onDeleteOf(field: FieldDescriptor): OnDeleteAction {
  return field.relation?.onDelete ?? defaultOnDelete(field.optional);
}

/** The synced entities by name (and device table name, accepted as an alias). */
export class EntityRegistry {
  private readonly byName = new Map<string, EntityDescriptor>();
  readonly descriptors: readonly EntityDescriptor[];
  private readonly dependents = new Map<string, Dependent[]>();
  /** Position of each entity in one order where every parent comes before its children. */
  private readonly rank = new Map<string, number>();
  /** Per model: its foreign keys on some scope path, with the scoped entities a change of each moves. */
  private readonly movers = new Map<string, Map<string, Mover[]>>();

  constructor(descriptors: readonly EntityDescriptor[]) {
    this.descriptors = [...descriptors];
    for (const d of descriptors) {
      if (this.byName.has(d.name)) throw new Error(`Duplicate sync entity ${d.name}`);
      this.byName.set(d.name, d);
    }
    for (const d of descriptors) if (!this.byName.has(d.table)) this.byName.set(d.table, d);
    for (const child of descriptors) {
      for (const field of child.fields) {
        if (!field.relation || field.access === 'ignore') continue;
        const list = this.dependents.get(field.relation.entity) ?? [];
        list.push({ child, field, action: onDeleteOf(field) });
        this.dependents.set(field.relation.entity, list);
      }
    }
    this.rankEntities();
    for (const entity of descriptors) {
      entity.scope?.hops.forEach((hop, depth) => {
        const model = depth === 0 ? entity.name : entity.scope!.hops[depth - 1]!.target;
        const byField = this.movers.get(model) ?? new Map<string, Mover[]>();
        byField.set(hop.field, [...(byField.get(hop.field) ?? []), { entity, depth }]);
        this.movers.set(model, byField);
      });
    }
  }

  /** Foreign keys of `model` whose change moves scoped rows (field -> the entities it moves). */
  moversOf(model: string): ReadonlyMap<string, readonly Mover[]> {
    return this.movers.get(model) ?? new Map();
  }

  /** Whether an update of `model` may re-stamp rows of other entities (rows below a moved record). */
  movesOthers(model: string): boolean {
    return [...this.moversOf(model).values()].some((list) => list.some((m) => m.depth > 0));
  }

  /** Relations pointing at `entity` (what deleting one of its records touches). */
  dependentsOf(entity: string): readonly Dependent[] {
    return this.dependents.get(entity) ?? [];
  }

  /**
   * Every entity a delete of `entity` may touch (its children, theirs, ...), parents
   * before children in one order shared by every write: a transaction locks their sync
   * scopes in this order, so two transactions never wait for each other in a circle.
   */
  descendantsOf(entity: string): EntityDescriptor[] {
    const seen = new Map<string, EntityDescriptor>();
    const visit = (name: string): void => {
      for (const { child } of this.dependentsOf(name)) {
        if (seen.has(child.name)) continue;
        seen.set(child.name, child);
        visit(child.name);
      }
    };
    visit(entity);
    seen.delete(entity);
    return [...seen.values()].sort((a, b) => this.rank.get(a.name)! - this.rank.get(b.name)!);
  }

  private rankEntities(): void {
    const state = new Map<string, 'visiting' | 'done'>();
    const order: string[] = [];
    const visit = (d: EntityDescriptor, path: string[]): void => {
      if (state.get(d.name) === 'done') return;
      if (state.get(d.name) === 'visiting') {
        throw new Error(`Sync entities reference each other in a cycle (${[...path, d.name].join(' -> ')}): deletes could not be ordered`);
      }
      state.set(d.name, 'visiting');
      for (const field of d.fields) {
        const parent = field.relation && field.access !== 'ignore' ? this.byName.get(field.relation.entity) : undefined;
        if (parent && parent !== d) visit(parent, [...path, d.name]);
      }
      state.set(d.name, 'done');
      order.push(d.name);
    };
    for (const d of [...this.descriptors].sort((a, b) => (a.name < b.name ? -1 : 1))) visit(d, []);
    order.forEach((name, i) => this.rank.set(name, i));
  }

  /** Entity names, sorted. */
  names(): string[] {
    return this.descriptors.map((d) => d.name).sort();
  }

  find(entity: string): EntityDescriptor | undefined {
    return this.byName.get(entity);
  }

  /** The descriptor, or an UNKNOWN_ENTITY GraphQL error naming the valid entities. */
  get(entity: string): EntityDescriptor {
    const d = this.byName.get(entity);
    if (d) return d;
    const valid = this.names();
    throw new TrackhubError(
      SyncErrorCode.UNKNOWN_ENTITY,
      `Unknown entity "${entity}". Valid entities: ${valid.join(', ')}`,
      { validEntities: valid },
    );
  }
}
