/**
 * Partial sync in the model: resolves each `@sync(scope: "a.b")` path to the hops
 * of contract/scopes.ts and checks it. Every row of a scoped model must belong to
 * exactly one scope root, found by following required to-one relations between
 * tenant-scoped `@sync` models; an intermediate model that declares a scope of its
 * own must declare the rest of the same path, and the root declares none.
 */
import type { EntityScope, ScopeHop } from '../contract/scopes.js';
import type { Diagnostic, SourceLocation } from '../schema/diagnostics.js';
import type { DmmfModel } from '../schema/prisma-wasm.js';
import type { EntityIR } from './types.js';

export interface DeclaredScope {
  path: string[];
  location: SourceLocation;
}

/** Sets `scope` on every entity that declares one; problems go to `diagnostics`. */
export function resolveScopes(
  entities: EntityIR[],
  declared: ReadonlyMap<string, DeclaredScope>,
  models: readonly DmmfModel[],
  diagnostics: Diagnostic[],
): void {
  const byName = new Map(entities.map((e) => [e.name, e]));
  const modelByName = new Map(models.map((m) => [m.name, m]));
  for (const [name, scope] of declared) {
    const entity = byName.get(name);
    if (!entity) continue; // the entity already has errors of its own
    const fail = (message: string, fix: string): void => {
      diagnostics.push({ location: scope.location, rule: 'sync/scope-path', message, fix });
    };
    if (entity.tenantField === null) {
      fail(`${name} is a global entity (tenant: "none"), so it cannot be synced by scope`, 'remove the scope option, or give the model a tenant');
      continue;
    }
    const hops: ScopeHop[] = [];
    let at = entity;
    let ok = true;
    for (const [i, segment] of scope.path.entries()) {
      const here = `${at.name}.${segment}`;
      const model = modelByName.get(at.name);
      const field = model?.fields.find((f) => f.name === segment);
      const relations = model?.fields.filter((f) => f.kind === 'object').map((f) => f.name) ?? [];
      const known = relations.length ? `; relation fields of ${at.name}: ${relations.join(', ')}` : `; ${at.name} has no relation fields`;
      if (!field) {
        fail(`scope path "${scope.path.join('.')}" of ${name}: ${at.name} has no field "${segment}"`, `name a relation field of ${at.name}${known}`);
        ok = false;
        break;
      }
      if (field.kind !== 'object') {
        fail(`scope path "${scope.path.join('.')}" of ${name}: ${here} is not a relation field`, `name the relation field, not its foreign key${known}`);
        ok = false;
        break;
      }
      if (field.isList || !field.relationFromFields?.length) {
        fail(
          `scope path "${scope.path.join('.')}" of ${name}: ${here} is ${field.isList ? 'a list' : 'the side of a relation without the foreign key'}; a scope path follows each record to its one parent`,
          `name the relation field that holds the foreign key (the one with @relation(fields: [...])) on the way to the root`,
        );
        ok = false;
        break;
      }
      const fk = at.dataFields.find((f) => f.relation?.navigation === segment);
      const target = byName.get(field.type);
      if (!target || !fk) {
        fail(
          `scope path "${scope.path.join('.')}" of ${name}: ${here} leads to ${field.type}, ${target ? 'but its foreign key is not synced (@sync.ignore)' : 'which is not a @sync model'}`,
          target ? `sync the foreign key of ${here}, or choose another path` : `annotate ${field.type} with /// @sync, or choose a path through @sync models`,
        );
        ok = false;
        break;
      }
      if (fk.optional) {
        fail(
          `scope path "${scope.path.join('.')}" of ${name}: ${here} is optional, so a ${at.name} without it would belong to no scope`,
          `make ${at.name}.${fk.name} required, or choose a path of required relations`,
        );
        ok = false;
        break;
      }
      if (target.tenantField === null) {
        fail(`scope path "${scope.path.join('.')}" of ${name}: ${here} leads to the global entity ${target.name} (tenant: "none")`, 'a scope root and every model on the way to it belong to a tenant: choose another path');
        ok = false;
        break;
      }
      hops.push({ relation: segment, field: fk.name, target: target.name });
      const rest = scope.path.slice(i + 1);
      const own = declared.get(target.name);
      if (rest.length > 0 && own && own.path.join('.') !== rest.join('.')) {
        fail(
          `scope path "${scope.path.join('.')}" of ${name} goes through ${target.name}, whose own scope is "${own.path.join('.')}"`,
          `a path through a scoped model continues with that model's path: use scope: "${scope.path.slice(0, i + 1).concat(own.path).join('.')}"`,
        );
        ok = false;
        break;
      }
      if (rest.length === 0 && own) {
        fail(
          `scope path "${scope.path.join('.')}" of ${name} ends at ${target.name}, which is itself synced by scope ("${own.path.join('.')}")`,
          `continue the path to ${target.name}'s root: scope: "${scope.path.concat(own.path).join('.')}"`,
        );
        ok = false;
        break;
      }
      at = target;
    }
    if (!ok) continue;
    const resolved: EntityScope = { root: hops[hops.length - 1]!.target, hops };
    entity.scope = resolved;
  }
}
