import type { EntityHooks } from '../generated/runtime.js';

/**
 * Your hooks for TaskNote: created once by trackhub-gen, never overwritten.
 * The generated server calls them on every device push and online CRUD write.
 */
export const taskNoteHooks: EntityHooks = {
  // Refuse a change by returning a message (the item fails with VALIDATION_FAILED):
  // validate(data, { operation, principal, existing }) {
  //   if (operation !== 'delete' && typeof data.name === 'string' && data.name.trim() === '') return 'name must not be blank';
  // },
  // Adjust what devices receive:
  // afterPull(item) {
  //   return item;
  // },
};
