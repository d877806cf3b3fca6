/**
 * Prisma 6 schemas keep connection URLs in the datasource block (`url = env("...")`,
 * `directUrl`, `shadowDatabaseUrl`); Prisma 7, which trackhub-gen bundles, moved them
 * to prisma.config.ts and refuses them. They say nothing about the data model, so
 * they are blanked out before Prisma reads the schema: the schema a team runs in
 * production is accepted as it is.
 */

/** Datasource properties Prisma 7 no longer accepts in a schema file. */
export const CONNECTION_URL_PROPERTIES = ['url', 'directUrl', 'shadowDatabaseUrl'] as const;

const DATASOURCE_RE = /^[ \t]*datasource[ \t]+\w+[ \t]*\{[^}]*\}/gm;
const PROPERTY_RE = new RegExp(`^([ \\t]*)(${CONNECTION_URL_PROPERTIES.join('|')})[ \\t]*=[^\\n]*$`, 'gm');

/**
 * `text` with the connection URL lines of its datasource blocks replaced by spaces
 * (same length and lines, so offsets and line:col positions do not move).
 */
export function withoutConnectionUrls(text: string): string {
  return text.replace(DATASOURCE_RE, (block) => block.replace(PROPERTY_RE, (line) => ' '.repeat(line.length)));
}
