import type { ClientSchemaSnapshot } from './client/schema-snapshot.js';
import type { ProjectIR } from '../model/types.js';

/** One file an emitter wants to exist in the output directory. */
export interface EmittedFile {
  /** Relative to the output directory, posix separators. */
  path: string;
  /** File text; may be unformatted, the plan formats it. */
  content: string;
  /** `user` files are created once and never overwritten; `generator` files are owned by us. */
  owner: 'generator' | 'user';
  /** The entity (model name) the file belongs to, when it belongs to exactly one (`generate entity <Name>`). */
  entity?: string;
  /**
   * The emitter laid the text out in its final format (emitters/layout.ts): the plan
   * does not run prettier on it, unless a line is over the print width.
   */
  formatted?: boolean;
}

/** What `generate` can write: each is one emitter. */
export const TARGETS = ['server', 'client', 'graphql', 'ops'] as const;
export type Target = (typeof TARGETS)[number];

export interface EmitOptions {
  /** Module specifier generated server code imports the runtime from. */
  runtimeServer: string;
  /** Module specifier generated client code imports the runtime from. */
  runtimeClient: string;
  /**
   * The committed client schema snapshot found in the output directory, if any:
   * the previous device schema that new migration steps are computed from.
   */
  previousClientSchema?: ClientSchemaSnapshot;
  /** Which targets to write (default: all). An app project takes `['client']`, a server `['server', 'graphql', 'ops']`. */
  targets?: readonly Target[];
}

export const defaultEmitOptions: EmitOptions = {
  runtimeServer: 'trackhub-gen/runtime/server',
  runtimeClient: 'trackhub-gen/runtime/client',
};

/** An emitter is a pure function of the model and the options. */
export type Emitter = (project: ProjectIR, options: EmitOptions) => EmittedFile[];

/** An emitter that runs a tool in-process (GraphQL Code Generator); still a pure function of its inputs. */
export type AsyncEmitter = (project: ProjectIR, options: EmitOptions) => Promise<EmittedFile[]>;
