import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { RESERVED_IDENTIFIERS, prismaDelegate, typeNameOf } from '../../src/model/naming.js';

const templates = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templates(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe('names generated code uses', () => {
  it('every identifier a template imports is reserved, so no model class can shadow it', () => {
    const imported = new Set<string>();
    for (const file of templates('templates')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^import (?:type )?\{([^}]*)\}/gm)) {
        for (const part of m[1].replace(/\{\{[^}]*\}\}/g, '').split(',')) {
          const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
          if (/^[A-Za-z_$][\w$]*$/.test(name)) imported.add(name);
        }
      }
    }
    expect(imported.size).toBeGreaterThan(30);
    expect([...imported].filter((n) => !RESERVED_IDENTIFIERS.has(n))).toEqual([]);
  });

  it('maps names generated code already uses, and leaves the others alone', () => {
    const names = ['Field', 'Context', 'Args', 'Resolver', 'Injectable', 'Model', 'Database', 'Query', 'Mutation', 'JSON', 'Date', 'Crud', 'Trackhub'];
    expect(names.map(typeNameOf)).toEqual(names.map((n) => `${n}Item`));
    expect(['Space', 'Link', 'Document', 'ApiKey'].map(typeNameOf)).toEqual(['Space', 'Link', 'Document', 'ApiKey']);
    expect(prismaDelegate('APIKey')).toBe('aPIKey');
  });
});
