/**
 * Project emitter: the user-owned scaffolding around the generated code
 * (created once, never overwritten).
 */
import { renderTemplate } from '../render.js';
import type { Emitter } from '../types.js';

export const emitProject: Emitter = (project) => [
  { path: 'tsconfig.json', content: renderTemplate('project/tsconfig.json.hbs', project), owner: 'user' },
];
