import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewriteGeneratorBlock } from '../../src/prisma/generate-client.js';
import { datasourceProvider, findBlocks, toProviderSchema } from '../../src/prisma/providers.js';

const fixture = readFileSync(new URL('../../fixtures/trackhub/schema.prisma', import.meta.url), 'utf8');

function changedLines(a: string, b: string): Array<[string, string]> {
  const al = a.split('\n');
  const bl = b.split('\n');
  expect(bl.length).toBe(al.length);
  return al.flatMap((line, i) => (line === bl[i] ? [] : [[line, bl[i]!] as [string, string]]));
}

describe('toProviderSchema', () => {
  it('leaves the sqlite fixture byte-identical for sqlite', () => {
    expect(toProviderSchema(fixture, 'sqlite')).toBe(fixture);
  });

  it('switches the provider and adds @db.Timestamptz(3) to every DateTime field, nothing else', () => {
    const pg = toProviderSchema(fixture, 'postgresql');
    expect(datasourceProvider(pg)).toBe('postgresql');
    const changes = changedLines(fixture, pg);
    const dateTimeFields = fixture.split('\n').filter((l) => /^\s+\w+\s+DateTime\??(\s|$)/.test(l));
    expect(dateTimeFields.length).toBeGreaterThan(10);
    expect(changes).toHaveLength(dateTimeFields.length + 1);
    expect(changes[0]).toEqual(['  provider = "sqlite"', '  provider = "postgresql"']);
    for (const [before, after] of changes.slice(1)) {
      expect(after).toBe(`${before.trimEnd()} @db.Timestamptz(3)`);
    }
    expect(pg).toContain('  deletedAt     DateTime? @db.Timestamptz(3)\n');
    expect(pg).toContain('  createdAt DateTime @default(now()) @db.Timestamptz(3)\n');
    // idempotent, and back to sqlite gives the original text
    expect(toProviderSchema(pg, 'postgresql')).toBe(pg);
    expect(toProviderSchema(pg, 'sqlite')).toBe(fixture);
  });

  it('keeps native types, trailing comments and strings intact', () => {
    const schema = [
      'datasource db {',
      '  provider = "sqlite" // the db',
      '}',
      'model A {',
      '  id   String   @id @default("// not a comment")',
      '  at   DateTime @default(now()) /// doc @db.Fake',
      '  fx   DateTime @db.Timestamp(6)',
      '  list DateTime[]',
      '  when DateTimeish',
      '}',
      '',
    ].join('\n');
    const pg = toProviderSchema(schema, 'postgresql');
    expect(pg).toBe(
      [
        'datasource db {',
        '  provider = "postgresql" // the db',
        '}',
        'model A {',
        '  id   String   @id @default("// not a comment")',
        '  at   DateTime @default(now()) @db.Timestamptz(3) /// doc @db.Fake',
        '  fx   DateTime @db.Timestamp(6)',
        '  list DateTime[] @db.Timestamptz(3)',
        '  when DateTimeish',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('sets the client generator output when asked', () => {
    const out = toProviderSchema(fixture, 'sqlite', { output: '/tmp/x' });
    expect(changedLines(fixture, out)).toEqual([['  output   = "../../.cache/prisma/sqlite"', '  output   = "/tmp/x"']]);
  });
});

describe('rewriteGeneratorBlock', () => {
  it('forces the prisma-client generator settings and drops other generators', () => {
    const schema = [
      'generator other {',
      '  provider = "prisma-erd-generator"',
      '}',
      'generator client {',
      '  provider        = "prisma-client"',
      '  output          = "../somewhere"',
      '  moduleFormat    = "cjs"',
      '  previewFeatures = ["views"]',
      '}',
      'datasource db {',
      '  provider = "sqlite"',
      '}',
    ].join('\n');
    const out = rewriteGeneratorBlock(schema);
    const generators = findBlocks(out).filter((b) => b.kind === 'generator');
    expect(generators.map((g) => g.name)).toEqual(['client']);
    const body = out.slice(generators[0]!.bodyStart, generators[0]!.bodyEnd);
    expect(body).toMatch(/moduleFormat\s+= "esm"/);
    expect(body).toMatch(/importFileExtension\s+= "js"/);
    expect(body).toMatch(/output\s+= "\.\/client"/);
    expect(body).toContain('previewFeatures = ["views"]');
    expect(body).not.toContain('somewhere');
    expect(body).not.toContain('"cjs"');
    // line numbers of everything else are unchanged (validation errors point at the caller's lines)
    expect(out.split('\n').slice(0, 12)).toEqual([
      '// generator other: removed by trackhub-gen',
      '',
      '',
      '// generator client: moved to the end of the file by trackhub-gen',
      '',
      '',
      '',
      '',
      '',
      'datasource db {',
      '  provider = "sqlite"',
      '}',
    ]);
  });

  it('adds a prisma-client generator when there is none', () => {
    const out = rewriteGeneratorBlock('datasource db {\n  provider = "sqlite"\n}\n');
    expect(findBlocks(out).map((b) => b.kind)).toEqual(['datasource', 'generator']);
    expect(out.startsWith('datasource db {\n  provider = "sqlite"\n}\n')).toBe(true);
  });
});
