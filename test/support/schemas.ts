/** A new @sync entity to onboard or migrate to. */
export const TAG_MODEL = `
/// @sync
model Tag {
  id        String    @id @default(uuid())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime  @updatedAt
  deletedAt DateTime?
  tenantId  String
  label     String

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}
`;
