/**
 * trackhub-gen as a library: the CLI's pipeline (schema -> model -> emitters
 * -> plan) for build tools that want to run it in-process.
 */
export { main } from './cli/main.js';
export { CONFIG_FILE, defaultConfig, loadConfig } from './config.js';
export type { TrackhubConfig } from './config.js';
export { emitOptionsFor, emitters, planProject } from './generate.js';
export type { EmitOptions, EmittedFile, Emitter } from './emitters/types.js';
export { loadProject } from './model/build.js';
export type { ProjectIR } from './model/types.js';
export type { PlannedFile } from './plan/plan.js';
