import type { EntityDescriptor } from './descriptor.js';
import { SyncErrorCode, TrackhubError } from './errors.js';

/** The synced entities by name (and device table name, accepted as an alias). */
export class EntityRegistry {
  private readonly byName = new Map<string, EntityDescriptor>();
  readonly descriptors: readonly EntityDescriptor[];

  constructor(descriptors: readonly EntityDescriptor[]) {
    this.descriptors = [...descriptors];
    for (const d of descriptors) {
      if (this.byName.has(d.name)) throw new Error(`Duplicate sync entity ${d.name}`);
      this.byName.set(d.name, d);
    }
    for (const d of descriptors) if (!this.byName.has(d.table)) this.byName.set(d.table, d);
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
