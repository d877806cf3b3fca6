/**
 * One generator task in its own process (so maxRSS is per task):
 *   node --import tsx bench/gen-worker.ts prisma <schema.prisma> <outDir>
 */
import { readFileSync } from 'node:fs';

import { result } from './lib.js';

const [task, schema, out] = process.argv.slice(2);
if (!task || !schema || !out) {
  console.error('usage: gen-worker.ts prisma <schema> <outDir>');
  process.exit(2);
}
const t0 = performance.now();
if (task === 'prisma') {
  const { generatePrismaClient } = await import('../src/prisma/generate-client.js');
  const tImport = performance.now() - t0;
  await generatePrismaClient({ schemaText: readFileSync(schema, 'utf8'), schemaPath: schema, outputDir: out });
  result({ task, inProcessMs: performance.now() - t0, importMs: tImport });
} else {
  console.error(`unknown task ${task} (the trackhub CLI is measured through bin/trackhub-gen.mjs with bench/rss-hook.mjs)`);
  process.exit(2);
}
