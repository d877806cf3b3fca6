/**
 * Synthetic annotated Prisma schemas of N `@sync` models: the convention fields,
 * one data field of each supported kind, an enum, and a relation to the previous model.
 */
export function syntheticSchema(models: number): string {
  const out: string[] = [
    '// Synthetic benchmark schema (bench/schema-gen.ts)',
    '',
    'generator client {',
    '  provider = "prisma-client"',
    '  output   = "./client"',
    '}',
    '',
    'datasource db {',
    '  provider = "sqlite"',
    '}',
    '',
    'enum BenchStatus {',
    '  OPEN',
    '  DONE',
    '  ARCHIVED',
    '}',
    '',
  ];
  const name = (i: number) => `Model${String(i).padStart(3, '0')}`;
  for (let i = 0; i < models; i++) {
    const m = name(i);
    const conflict = ['timestamp', 'serverWins', 'clientWins', 'merge', 'manual'][i % 5];
    out.push(`/// Synthetic model ${i}.`, `/// @sync(conflict: "${conflict}")`, `model ${m} {`);
    out.push(
      '  id          String      @id @default(uuid())',
      '  clientId    String?',
      '  version     Int         @default(1)',
      '  updatedAt   DateTime    @updatedAt',
      '  deletedAt   DateTime?',
      '  tenantId    String',
      '  title       String',
      '  note        String?',
      '  count       Int         @default(0)',
      '  score       Float?',
      '  active      Boolean     @default(true)',
      '  dueAt       DateTime?',
      '  meta        Json?',
      '  status      BenchStatus @default(OPEN)',
      '  ownerId     String      /// @sync.readonly',
      '  secret      String?     /// @sync.ignore',
    );
    if (i > 0) {
      out.push(`  parentId    String?`, `  parent      ${name(i - 1)}? @relation(fields: [parentId], references: [id])`);
    }
    if (i < models - 1) out.push(`  children    ${name(i + 1)}[]`);
    out.push('', '  @@unique([tenantId, clientId])', '  @@index([tenantId, updatedAt, id])', '}', '');
  }
  return out.join('\n');
}
