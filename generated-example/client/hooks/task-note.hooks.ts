import type { ClientHooks } from '../generated/database.js';

/**
 * Your device-side hooks for TaskNote: created once by trackhub-gen, never
 * overwritten. The generated services' sync calls them.
 */
export const taskNoteHooks: ClientHooks = {
  // Adjust an outgoing change, or refuse it with a reason (it stays on the device,
  // listed by client.givenUp()). Runs inside the push: compute, do not write to the database.
  // beforePush(change) {
  //   if (change.operation === 'insert' && change.values.name === '') return { refuse: 'name is empty' };
  //   return undefined;
  // },
  // React to what a pull applied (local ids), e.g. refresh a cache or notify:
  // afterPull({ created, updated, deleted }) {},
};
