#!/usr/bin/env node
// npm `prepare` (after the build, in a checkout only): generates the fixture's Prisma clients (offline, no prisma CLI)
//   .cache/prisma/sqlite      from fixtures/trackhub/schema.prisma
//   .cache/prisma/postgresql  same schema, provider postgresql, DateTime -> @db.Timestamptz(3)
// One line per client. Re-running is cheap: an up-to-date client is left alone.
// Skipped inside node_modules, or with TRACKHUB_SKIP_POSTINSTALL=1.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tag = 'trackhub-gen postinstall:';

if (process.env.TRACKHUB_SKIP_POSTINSTALL === '1') {
  console.log(`${tag} skipped (TRACKHUB_SKIP_POSTINSTALL=1)`);
  process.exit(0);
}
if (root.split(path.sep).includes('node_modules') || !existsSync(path.join(root, 'fixtures', 'trackhub', 'schema.prisma'))) {
  console.log(`${tag} nothing to do (not a development checkout)`);
  process.exit(0);
}

try {
  const factory = await import(pathToFileURL(path.join(root, 'dist', 'prisma', 'client-factory.js')).href);
  for (const provider of ['sqlite', 'postgresql']) {
    const started = performance.now();
    const { dir, generated } = await factory.ensureExampleClient(provider);
    const ms = Math.round(performance.now() - started);
    const rel = path.relative(root, dir).split(path.sep).join('/');
    console.log(`${tag} prisma client ${provider} -> ${rel} (${generated ? `generated in ${ms} ms` : 'up to date'})`);
  }
} catch (error) {
  console.error(`${tag} FAILED to generate the Prisma clients:`);
  console.error(error);
  process.exit(1);
}
