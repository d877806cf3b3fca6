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

/** The prettier options of the generated output (the plan's format step). */
export const PRETTIER_OPTIONS = { printWidth: 100, singleQuote: true, trailingComma: 'all', semi: true, endOfLine: 'lf' } as const;

/** Long and short model, field and enum names, relations both ways, media, every kind. */
export function namesSchema(): string {
  const long = 'AnExceptionallyLongModelNameForLayoutChecks';
  return `generator client {
  provider = "prisma-client"
  output   = "./client"
}

datasource db {
  provider = "sqlite"
}

enum AVeryLongEnumerationNameForTheLayoutTest {
  FIRST_VERY_LONG_ENUM_VALUE_NAME
  SECOND_VERY_LONG_ENUM_VALUE_NAME
  THIRD_VERY_LONG_ENUM_VALUE_NAME
}

/// @sync
model A {
  id        String    @id @default(uuid())
  clientId  String?
  version   Int       @default(1)
  updatedAt DateTime  @updatedAt
  deletedAt DateTime?
  tenantId  String
  x         String
  items     ${long}[]

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}

/// @sync(conflict: "merge")
model ${long} {
  id                                           String    @id @default(uuid())
  clientId                                     String?
  version                                      Int       @default(1)
  updatedAt                                    DateTime  @updatedAt
  deletedAt                                    DateTime?
  tenantId                                     String
  aFieldWithAnUnusuallyLongNameToPushLinesOut  String?
  anotherFieldWithAVeryLongNameForTheLayout    AVeryLongEnumerationNameForTheLayoutTest @default(FIRST_VERY_LONG_ENUM_VALUE_NAME)
  aVeryLongNumericFieldNameWithADefaultValue   Int       @default(12345)
  aVeryLongJsonFieldNameToSeeHowItIsLaidOut    Json?
  aVeryLongMediaFieldNameThatTakesAnUploadUrl  String?   /// @sync.media
  aId                                          String
  a                                            A         @relation(fields: [aId], references: [id])

  @@unique([tenantId, clientId])
  @@index([tenantId, updatedAt, id])
}
`;
}
