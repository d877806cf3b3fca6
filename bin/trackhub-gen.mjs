#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx trackhub-gen`
// works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
if (process.env.PRISMA_GENERATOR_INVOCATION === 'true') {
  // Started by `prisma generate` for `generator trackhub { provider = "trackhub-gen" }`.
  const { runPrismaGenerator } = await import('../src/cli/prisma-generator.ts');
  const { createRequire } = await import('node:module');
  runPrismaGenerator(createRequire(import.meta.url)('../package.json').version);
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
