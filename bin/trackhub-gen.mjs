#!/usr/bin/env node
// The trackhub-gen command: compiled JavaScript from dist/ (built by `npm run build`,
// which `npm install` in a checkout and `npm pack` run).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('trackhub-gen: dist/ is missing; in a checkout of trackhub-gen run `npm run build` first');
  process.exit(3);
}
if (process.env.PRISMA_GENERATOR_INVOCATION === 'true') {
  // Started by `prisma generate` for `generator trackhub { provider = "trackhub-gen" }`.
  const { runPrismaGenerator } = await import('../dist/cli/prisma-generator.js');
  const { createRequire } = await import('node:module');
  runPrismaGenerator(createRequire(import.meta.url)('../package.json').version);
} else {
  const { main: run } = await import(main.href);
  process.exitCode = await run(process.argv);
}
