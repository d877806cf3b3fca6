import { createRequire } from 'node:module';

/** Prisma's own schema parser and validator, compiled to wasm (CommonJS package). */
interface PrismaSchemaWasm {
  get_datamodel(params: string): string;
  lint(input: string): string;
  format(schema: string, params: string): string;
}

const require = createRequire(import.meta.url);
// prisma-schema-wasm reports Rust panics through this global; without it a panic
// turns into an unreadable TypeError.
const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(m: string): void } };
g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message() {} };

let wasm: PrismaSchemaWasm | undefined;
export function prismaSchemaWasm(): PrismaSchemaWasm {
  wasm ??= require('@prisma/prisma-schema-wasm') as PrismaSchemaWasm;
  return wasm;
}

export interface LintMessage {
  file_name: string;
  start: number;
  end: number;
  text: string;
  is_warning: boolean;
}

/** Datamodel shapes (the subset we read) of `get_datamodel`. */
export interface DmmfField {
  name: string;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  isUpdatedAt: boolean;
  dbName?: string | null;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  /** The relation's `onDelete` when the schema names one (`Cascade`, `SetNull`, `Restrict`, `NoAction`, `SetDefault`). */
  relationOnDelete?: string;
  documentation?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  /** `@@schema` (PostgreSQL multiSchema). */
  schema?: string | null;
  fields: DmmfField[];
  primaryKey: { fields: string[] } | null;
  uniqueFields: string[][];
  documentation?: string;
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'normal' | 'unique' | 'fulltext';
  fields: { name: string }[];
}

export interface Datamodel {
  enums: { name: string; values: { name: string; dbName?: string | null }[]; documentation?: string }[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}
