import type { EntityHooks } from '../generated/runtime.js';

/**
 * Your hooks for Space: created once by trackhub-gen, never overwritten.
 * The generated server calls them on every device push and online CRUD write.
 *
 * Example project: a Space needs a name that is not blank.
 */
export const spaceHooks: EntityHooks = {
  validate(data, { operation }) {
    if (operation !== 'delete' && typeof data.name === 'string' && data.name.trim() === '') return 'name must not be blank';
  },
};
