/**
 * The schema of the bulk-statement tests (bulk-update.test.ts, bulk-insert.test.ts), of the
 * kind users bring: a mapped table name with a space in it, mapped columns, every field
 * kind, literal, `uuid()`, `now()` and `@updatedAt` defaults, a second unique key, a
 * server-only field, and an Int autoincrement id with an Int tenant. Written for
 * PostgreSQL (plain `timestamp(3)` columns, as `prisma init` gives); the SQLite variant
 * drops the native types (src/prisma/providers.ts). Append models before the clock's.
 */
import { SCOPE_MOVE_PRISMA, SYNC_CLOCK_PRISMA } from '../../src/runtime/sync-clock-model.js';

export const READINGS_MODELS = `
datasource db {
  provider = "postgresql"
}

generator client {
  provider = "prisma-client"
  output   = "./generated"
}

enum Level {
  LOW
  HIGH
}

/// @sync
model Reading {
  id        String    @id @default(uuid()) @map("reading_id")
  clientId  String?   @map("client_uuid")
  version   Int       @default(1) @map("row_version")
  createdAt DateTime  @default(now()) @map("created_at")
  updatedAt DateTime  @updatedAt @map("updated_at") @db.Timestamp(3)
  deletedAt DateTime? @map("deleted_at") @db.Timestamp(3)
  tenantId  String    @map("tenant_key")
  label     String    @map("reading label")
  code      String?
  value     Float     @default(0.5)
  count     Int       @default(7)
  ok        Boolean   @default(true) @map("is_ok")
  takenAt   DateTime? @map("taken_at") @db.Timestamp(3)
  level     Level     @default(HIGH)
  meta      Json?
  extra     Json?
  note      String?   /// @sync.ignore

  @@unique([tenantId, clientId])
  @@unique([tenantId, code])
  @@index([tenantId, updatedAt])
  @@map("sensor readings")
}

/// An Int id and an Int tenant, as many existing schemas have.
/// @sync(tenant: "orgId")
model Counter {
  id        Int       @id @default(autoincrement()) @map("counter_id")
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime? @updatedAt @db.Timestamp(3)
  deletedAt DateTime? @db.Timestamp(3)
  orgId     Int       @map("org")
  total     Int       @default(0)

  @@unique([orgId, clientId])
  @@index([orgId, updatedAt])
}
`;

/** The models plus the runtime's own (sync clock, scope moves): a complete schema. */
export const readingsSchema = (extra = ''): string => `${READINGS_MODELS}
${extra}
${SYNC_CLOCK_PRISMA}
${SCOPE_MOVE_PRISMA}`;
