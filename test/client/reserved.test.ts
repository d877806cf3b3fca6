/**
 * The generated typed client adds one property per entity (`client.spaces`); a
 * property named like a TrackhubClient member would shadow it. The emitter's
 * reserved list must name every member the class has.
 */
import { describe, expect, it } from 'vitest';

import { CLIENT_RESERVED } from '../../src/emitters/client/index.js';
import { TrackhubClient } from '../../src/runtime/client/node.js';
import { entities, migrations, schema, Note, Space, Tag } from './support/app.js';
import { closeNodeDatabase, URL } from './support/helpers.js';

describe('CLIENT_RESERVED', () => {
  it('names every member of TrackhubClient (prototype methods and getters, instance fields)', async () => {
    const client = new TrackhubClient({
      tenantId: 'reserved',
      url: URL,
      fetch: () => Promise.reject(new Error('no network in this test')),
      dbDir: ':memory:',
      schema,
      migrations,
      modelClasses: [Space, Note, Tag],
      entities,
    });
    try {
      const members = new Set<string>([
        ...Object.getOwnPropertyNames(TrackhubClient.prototype).filter((n) => n !== 'constructor'),
        ...Object.keys(client),
      ]);
      expect(members.has('syncAll')).toBe(true);
      expect(members.has('tenantId')).toBe(true);
      const missing = [...members].filter((m) => !CLIENT_RESERVED.has(m)).sort();
      expect(missing).toEqual([]);
    } finally {
      closeNodeDatabase(client.database);
    }
  });
});
