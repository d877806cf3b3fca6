import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Command, CommanderError, Option } from 'commander';
import { createTwoFilesPatch } from 'diff';

import { ConfigError, loadConfig, type TrackhubConfig } from '../config.js';
import { emitOptionsFor } from '../plan/emit-options.js';
import { openFormatCache } from '../plan/format.js';
import { generatorFingerprint, openPlanCache, planKey, type CachedPlan } from '../plan/plan-cache.js';
import { CLIENT_SNAPSHOT_PATH, ClientMigrationError, parseSnapshot } from '../emitters/client/schema-snapshot.js';
import { SchemaError, formatDiagnostic, formatWarning, type Diagnostic } from '../schema/diagnostics.js';
import { applyChanges, comparePlan, drifted, OutputWriteError, pausingFs, realFs, recoverInterrupted, unifiedDiff, type FileChange } from '../plan/apply.js';
import { strandedRuntimeImports } from '../plan/runtime-imports.js';
import { writeFileAtomic } from '../plan/atomic-write.js';
import { DevError, InitError, InspectError } from './errors.js';
import { parseSchemaFiles, readSchema, readSchemaFiles, type SchemaFile } from '../schema/read.js';
import { suggest } from './suggest.js';

export const EXIT = { ok: 0, drift: 1, usage: 2 } as const;

class UsageError extends Error {}

interface CommonOptions {
  schema?: string;
  out?: string;
  config?: string;
  dryRun?: boolean;
  reporter?: 'text' | 'github';
}

/** GitHub Actions workflow command (https://docs.github.com/actions: workflow commands). */
function githubAnnotation(file: string, line: number, col: number | undefined, title: string, message: string): string {
  const esc = (v: string) => v.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (v: string) => esc(v).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return `::error file=${prop(file)},line=${line}${col ? `,col=${col}` : ''},title=${prop(title)}::${esc(message)}`;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function resolveConfig(opts: CommonOptions, io: Io): Promise<TrackhubConfig> {
  const { config } = await loadConfig(io.cwd, opts.config);
  return {
    ...config,
    ...(opts.schema ? { schema: opts.schema } : {}),
    ...(opts.out ? { out: opts.out } : {}),
  };
}

const LABEL: Record<FileChange['status'], string> = {
  created: 'create',
  changed: 'update',
  unchanged: 'unchanged',
  kept: 'keep (user-owned)',
  deleted: 'delete',
};

function printPlan(changes: FileChange[], io: Io, dryRun: boolean): void {
  if (changes.length) io.out(changes.map((c) => `  ${LABEL[c.status].padEnd(18)} ${c.path}`).join('\n'));
  const count = (s: FileChange['status']) => changes.filter((c) => c.status === s).length;
  io.out(
    `${dryRun ? 'dry run, nothing written: ' : ''}${count('created')} created, ${count('changed')} changed, ${count('deleted')} deleted, ${count('unchanged')} unchanged, ${count('kept')} user-owned kept`,
  );
}

/** Schema warnings (generation goes on): on stderr, after the errors' format. */
function printWarnings(project: { warnings?: Diagnostic[] }, io: Io): void {
  for (const w of project.warnings ?? []) io.err(formatWarning(w));
}

/**
 * Config, model and plan: what generate and check both start from. An unchanged schema,
 * output snapshot and generator reuse the last plan (plan/plan-cache.ts); otherwise the
 * schema is parsed and the plan made (the emitters load only then). `check` reads the
 * caches only.
 */
async function loadAndPlan(opts: CommonOptions, io: Io, mode: 'generate' | 'check') {
  const config = await resolveConfig(opts, io);
  const schemaPath = path.resolve(io.cwd, config.schema);
  const outDir = path.resolve(io.cwd, config.out);
  const read = await readSchemaFiles(schemaPath);
  const options = await emitOptionsFor(outDir, config);
  const cacheOptions = { cwd: io.cwd, readOnly: mode === 'check' };
  const planCache = openPlanCache(cacheOptions);
  const key = planKey({ generator: generatorFingerprint(), files: read.files, options });
  const hit = planCache.get(key);
  const made: CachedPlan = hit ?? (await makePlan(read, options, cacheOptions));
  if (!hit) planCache.save(key, made);
  /**
   * After generate wrote the whole plan: file it also under the inputs it left behind
   * (the client snapshot it wrote), so the next check or generate finds it. Sound
   * because the output is a fixed point: planned again from that snapshot it is the
   * same (`check` right after `generate` passes; the tests prove it).
   */
  const rememberWritten = (): void => {
    const snapshot = made.plan.find((f) => f.path === CLIENT_SNAPSHOT_PATH);
    if (!snapshot) return;
    const next = { ...options, previousClientSchema: parseSnapshot(snapshot.content, snapshot.path) };
    const after = planKey({ generator: generatorFingerprint(), files: read.files, options: next });
    if (after !== key) planCache.save(after, made);
  };
  return { config, schemaPath, outDir, ...made, rememberWritten };
}

/** Parses the schema and plans (the emitters load only here). */
async function makePlan(
  read: { file: string; files: SchemaFile[] },
  options: Awaited<ReturnType<typeof emitOptionsFor>>,
  cacheOptions: { cwd: string; readOnly: boolean },
): Promise<CachedPlan> {
  const [{ buildProject }, { planProject }] = await Promise.all([import('../model/build.js'), import('../generate.js')]);
  const project = buildProject(parseSchemaFiles(read.files, read.file));
  const plan = await planProject(project, options, openFormatCache(cacheOptions));
  return { plan, entities: project.entities.map((e) => e.name), warnings: project.warnings ?? [] };
}

async function runGenerate(opts: CommonOptions, io: Io, entityName?: string): Promise<number> {
  const planned = await loadAndPlan(opts, io, 'generate');
  const { config, schemaPath, entities, outDir } = planned;
  printWarnings(planned, io);
  let plan = planned.plan;
  if (entityName) {
    if (!entities.includes(entityName)) {
      const read = await readSchema(schemaPath);
      const models = read.datamodel.models.map((m) => m.name);
      if (models.includes(entityName))
        throw new UsageError(
          `model ${entityName} is not annotated with @sync in ${config.schema}; add "/// @sync" on the line above "model ${entityName}" (then run \`trackhub-gen fix-schema ${entityName}\` or add the convention fields) and try again`,
        );
      const hint = suggest(entityName, entities);
      throw new UsageError(
        `no @sync model named "${entityName}" in ${config.schema}.${hint ? ` Did you mean "${hint}"?` : ''} @sync models: ${entities.join(', ') || '(none)'}`,
      );
    }
    // The entity's own files plus the shared files that list every entity.
    plan = plan.filter((f) => f.entity === undefined || f.entity === entityName);
  }
  // A generate killed midway left a journal: restore the previous output before comparing with it.
  if (!opts.dryRun && (await recoverInterrupted(outDir))) io.out(`recovered ${config.out} from an interrupted generate`);
  const changes = await comparePlan(plan, outDir, { deleteStale: !entityName });
  // TRACKHUB_TEST_PAUSE_AT: the generator fault tests stop the process at a precise step.
  const pauseAt = process.env.TRACKHUB_TEST_PAUSE_AT;
  if (!opts.dryRun) await applyChanges(changes, outDir, pauseAt ? pausingFs(pauseAt) : realFs);
  if (!opts.dryRun && !entityName) planned.rememberWritten();
  printPlan(changes, io, Boolean(opts.dryRun));
  for (const s of strandedRuntimeImports(changes, config))
    io.err(`warning: ${path.join(config.out, s.path)}:${s.line}:${s.col} imports the runtime from '${s.specifier}', which is not the configured runtime; import from ${s.fix}`);
  if (!opts.dryRun) io.out(`${entityName ? `entity ${entityName}` : `${entities.length} entities`} generated into ${config.out}`);
  return EXIT.ok;
}

async function runCheck(opts: CommonOptions, io: Io): Promise<number> {
  const { config, outDir, plan } = await loadAndPlan(opts, io, 'check');
  const changes = await comparePlan(plan, outDir, { deleteStale: true });
  const drift = drifted(changes);
  const stranded = strandedRuntimeImports(changes, config);
  for (const s of stranded) {
    const file = path.posix.join(config.out.split(path.sep).join('/'), s.path);
    const message = `imports the runtime from '${s.specifier}', which is not the configured runtime; import from ${s.fix}`;
    io.err(`${file}:${s.line}:${s.col}: ${message}`);
    if (opts.reporter === 'github') io.out(githubAnnotation(file, s.line, s.col, 'trackhub-gen check', message));
  }
  if (drift.length === 0 && stranded.length === 0) {
    io.out(`check: ${config.out} is up to date with ${config.schema} (${plan.length} files)`);
    return EXIT.ok;
  }
  for (const change of drift) {
    io.out(unifiedDiff(change));
    if (opts.reporter === 'github') {
      const file = path.posix.join(config.out.split(path.sep).join('/'), change.path);
      const what = change.status === 'created' ? 'is missing' : change.status === 'deleted' ? 'is no longer generated' : 'differs from what the schema generates';
      io.out(githubAnnotation(file, 1, undefined, 'trackhub-gen check', `${file} ${what}. Run \`trackhub-gen generate\` and commit the result.`));
    }
  }
  if (drift.length === 0) {
    io.err(`check: ${stranded.length} user-owned import(s) of another runtime; fix them as shown above`);
    return EXIT.drift;
  }
  io.err(
    `check: ${drift.length} generated file(s) drifted from ${config.schema}: ${drift.map((d) => `${d.path} (${d.status === 'created' ? 'missing' : d.status === 'deleted' ? 'stale' : 'changed'})`).join(', ')}\nrun \`trackhub-gen generate\` and commit the result`,
  );
  return EXIT.drift;
}

async function runFixSchema(opts: CommonOptions, io: Io, name?: string): Promise<number> {
  const config = await resolveConfig(opts, io);
  const schemaPath = path.resolve(io.cwd, config.schema);
  const read = await readSchema(schemaPath);
  if (name) {
    const models = read.datamodel.models.map((m) => m.name);
    if (!models.includes(name)) {
      const hint = suggest(name, models);
      throw new UsageError(`no model named "${name}" in ${config.schema}.${hint ? ` Did you mean "${hint}"?` : ''}`);
    }
  }
  const { fixSchema } = await import('../schema/fix.js');
  const { files, fixes } = fixSchema(read, name);
  const changed = files.filter((f, i) => f.text !== read.files[i].text);
  if (fixes.length === 0) {
    io.out(`fix-schema: nothing to add in ${config.schema}`);
  } else {
    for (const [i, f] of files.entries()) if (f.text !== read.files[i].text) io.out(createTwoFilesPatch(`a/${f.file}`, `b/${f.file}`, read.files[i].text, f.text));
    for (const fix of fixes) io.out(`  ${fix.model}: + ${fix.added.join(', ')}`);
    for (const fix of fixes)
      if (fix.backfill)
        io.out(`\n${fix.model} gets a required tenant field: on a table that already has rows, fill it before it becomes required:\n${fix.backfill}`);
    if (opts.dryRun) io.out('dry run, nothing written');
    else {
      for (const f of changed) await writeFileAtomic(f.path ?? schemaPath, f.text);
      io.out(`fix-schema: updated ${changed.map((f) => f.file).join(', ')}; run your Prisma migration, then \`trackhub-gen generate\``);
    }
  }
  // Whatever an addition cannot fix (a field of the wrong shape) is still reported.
  try {
    (await import('../model/build.js')).buildProject(parseSchemaFiles(files, read.file));
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    // With a Name, only that model's problems are this command's business.
    const range = name ? parseSchemaFiles(files, read.file).positions.models.get(name) : undefined;
    const left = range
      ? err.diagnostics.filter((d) => d.location.file === range.file && d.location.line >= range.line && d.location.line <= range.endLine)
      : err.diagnostics;
    if (left.length) {
      for (const d of left) io.err(formatDiagnostic(d));
      io.err(
        `fix-schema: ${left.length} problem(s) need a manual change${fixes.length && !opts.dryRun ? ` (the additions above were written to ${changed.map((f) => f.file).join(', ')})` : ''}`,
      );
      return EXIT.usage;
    }
  }
  return EXIT.ok;
}

export async function main(argv: string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s), cwd: process.cwd() }): Promise<number> {
  const program = new Command();
  let exitCode: number = EXIT.ok;
  let reporter = 'text' as CommonOptions['reporter'];
  const common = (cmd: Command): Command =>
    cmd
      .addOption(new Option('-s, --schema <path>', 'Prisma schema to read (default from trackhub.config.json, else prisma/schema.prisma)'))
      .addOption(new Option('-o, --out <dir>', 'output directory (default from trackhub.config.json, else .)'))
      .addOption(new Option('-c, --config <file>', 'config file (default ./trackhub.config.json if present)'));
  program
    .name('trackhub-gen')
    .description('Generate offline-first sync plumbing (NestJS GraphQL + Prisma server, WatermelonDB client) from annotated Prisma models.')
    .version(pkg.version, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError(true);

  common(program.command('generate').description('generate the files of every @sync model'))
    .option('--dry-run', 'print the file plan (create / update / unchanged / delete) and write nothing')
    .action(async (opts: CommonOptions) => {
      exitCode = await runGenerate(opts, io);
    });
  common(program.command('entity').argument('<Name>', 'the @sync model to onboard or refresh').description('generate one entity\'s files and the shared files that list it'))
    .option('--dry-run', 'print the file plan and write nothing')
    .action(async (name: string, opts: CommonOptions) => {
      exitCode = await runGenerate(opts, io, name);
    });
  common(program.command('fix-schema').argument('[Name]', 'only this model').description('add missing convention fields, the unique (tenant, clientId) and the pull index to @sync models'))
    .option('--dry-run', 'print the diff and write nothing')
    .action(async (name: string | undefined, opts: CommonOptions) => {
      exitCode = await runFixSchema(opts, io, name);
    });
  common(program.command('check').description('regenerate in memory and compare with disk: exit 1 and a unified diff per drifted file, 0 when clean'))
    .addOption(new Option('--reporter <name>', 'also print annotations for a CI system').choices(['text', 'github']).default('text'))
    .action(async (opts: CommonOptions) => {
      reporter = opts.reporter ?? 'text';
      exitCode = await runCheck(opts, io);
    });

  program
    .command('init')
    .description('set this project up: trackhub.config.json, tsconfig.json, "type": "module", the sync module wired into your NestJS AppModule (idempotent; prints every change)')
    .addOption(new Option('-s, --schema <path>', 'Prisma schema (default: where Prisma looks: package.json prisma.schema, prisma/schema.prisma, prisma/schema/)'))
    .addOption(new Option('-o, --out <dir>', 'output directory for generated code (default src/sync)'))
    .option('--dry-run', 'print what would change and write nothing')
    .action(async (opts: { schema?: string; out?: string; dryRun?: boolean }) => {
      const { runInit } = await import('./init.js');
      await runInit(opts, io);
      exitCode = EXIT.ok;
    });

  common(program.command('dev'))
    .description('generate, create the Prisma client and tables on embedded SQLite (or --database-url), and serve the generated API with dev tokens')
    .option('-p, --port <port>', 'port to listen on (default 3000; 0 picks a free one)')
    .option('--database-url <url>', 'file:./.trackhub/dev.db (default) or a postgresql:// URL')
    .option('-w, --watch', 'regenerate and restart when the schema changes')
    .action(async (opts: CommonOptions & { port?: string; databaseUrl?: string; watch?: boolean }) => {
      const config = await resolveConfig(opts, io);
      const { runDev } = await import('./dev.js');
      exitCode = await runDev(
        {
          schemaPath: path.resolve(io.cwd, config.schema),
          outDir: path.resolve(io.cwd, config.out),
          generate: () => runGenerate(opts, io).catch((err: unknown) => reportError(err, io, 'text')),
        },
        opts,
        io,
      );
    });

  program
    .command('inspect')
    .argument('<device-db-file>', 'a device database, e.g. trackhub_db_<tenant>.db (opened read-only)')
    .description("print a device database's waiting and failed operations, conflicts, uploads, sync state per entity, row counts and size")
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { formatInspection, inspectDevice } = await import('./inspect.js');
      const report = inspectDevice(path.resolve(io.cwd, file));
      io.out(opts.json ? JSON.stringify(report, null, 2) : formatInspection(report));
      exitCode = EXIT.ok;
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    return reportError(err, io, reporter);
  }
}

/** Prints an error the way the CLI reports it and returns the exit code. */
function reportError(err: unknown, io: Io, reporter: CommonOptions['reporter']): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    if (err.code === 'commander.executeSubCommandAsync') return EXIT.usage;
    return EXIT.usage;
  }
  if (err instanceof SchemaError) {
    for (const d of err.diagnostics) {
      io.err(formatDiagnostic(d));
      if (reporter === 'github')
        io.out(githubAnnotation(d.location.file, d.location.line, d.location.col, `trackhub-gen ${d.rule}`, `${d.message}. Fix: ${d.fix}`));
    }
    io.err(`${err.diagnostics.length} schema error(s); nothing was written`);
    return EXIT.usage;
  }
  if (err instanceof ClientMigrationError) {
    io.err(`error: ${err.message}\nnothing was written`);
    return EXIT.usage;
  }
  if (err instanceof OutputWriteError) {
    io.err(`error: ${err.message}\nthe previous output was left as it was`);
    return EXIT.usage;
  }
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof InspectError || err instanceof InitError || err instanceof DevError) {
    io.err(`error: ${err.message}`);
    return EXIT.usage;
  }
  io.err(`internal error: ${(err as Error).stack ?? String(err)}\nnothing was written; please report this with the schema that caused it`);
  return 3;
}
