/**
 * Prisma generator mode: `generator trackhub { provider = "trackhub-gen" }` in
 * schema.prisma makes `prisma generate` run the same pipeline as the CLI
 * (same plan, same files), writing into the generator's `output`.
 *
 * Prisma starts the provider executable with PRISMA_GENERATOR_INVOCATION=true and
 * talks JSON-RPC over stdio (@prisma/generator-helper).
 */
import { createRequire } from 'node:module';

import { defaultEmitOptions, type EmitOptions } from '../emitters/types.js';
import { emitOptionsFor, planProject } from '../generate.js';
import { openFormatCache } from '../plan/format.js';
import { loadProject } from '../model/build.js';
import { applyChanges, comparePlan, recoverInterrupted } from '../plan/apply.js';
import { SchemaError, formatDiagnostic } from '../schema/diagnostics.js';

const require = createRequire(import.meta.url);

interface GeneratorOptions {
  schemaPath: string;
  generator: { output: { value: string | null } | null; config: Record<string, string | string[] | undefined> };
}

/** What `prisma generate` runs for our generator block. Exported for tests. */
export async function onGenerate(options: GeneratorOptions): Promise<void> {
  const out = options.generator.output?.value;
  if (!out) throw new Error('trackhub-gen: the generator block needs an `output` directory');
  const config = options.generator.config;
  const pick = (key: 'runtimeServer' | 'runtimeClient'): string => {
    const v = config[key];
    return typeof v === 'string' ? v : defaultEmitOptions[key];
  };
  const emitOptions: EmitOptions = { runtimeServer: pick('runtimeServer'), runtimeClient: pick('runtimeClient') };
  try {
    const project = await loadProject(options.schemaPath);
    const plan = await planProject(project, await emitOptionsFor(out, emitOptions), openFormatCache({ cwd: process.cwd() }));
    await recoverInterrupted(out);
    await applyChanges(await comparePlan(plan, out, { deleteStale: true }), out);
  } catch (err) {
    if (err instanceof SchemaError) throw new Error(err.diagnostics.map(formatDiagnostic).join('\n'));
    throw err;
  }
}

export function runPrismaGenerator(version: string): void {
  const { generatorHandler } = require('@prisma/generator-helper') as {
    generatorHandler(handler: {
      onManifest(): { version: string; defaultOutput: string; prettyName: string };
      onGenerate(options: GeneratorOptions): Promise<void>;
    }): void;
  };
  generatorHandler({
    onManifest: () => ({ version, defaultOutput: '../trackhub', prettyName: 'trackhub-gen' }),
    onGenerate,
  });
}
