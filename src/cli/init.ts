/**
 * `trackhub-gen init`: sets an existing project up, idempotently.
 *
 * - trackhub.config.json (schema where Prisma looks for it, out `src/sync`);
 * - package.json `"type": "module"` (the generated code is ESM);
 * - tsconfig.json when the project has none, so `npx tsc -p .` builds it to JS;
 * - on a server project: `<out>/server/prisma.ts` (your PrismaClient, from the
 *   schema's generator and datasource) and `<out>/server/sync.module.ts` (the
 *   generated TrackhubModule with its options), created when missing;
 * - wires `SyncModule` into the NestJS AppModule it finds, with ts-morph,
 *   touching only its import list and the `imports` of `@Module`.
 *
 * Every change is printed (a unified diff for edited files); a second run
 * changes nothing. Nothing that exists is overwritten.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { createTwoFilesPatch } from 'diff';

import { CONFIG_FILE } from '../config.js';
import { renderTemplate } from '../emitters/render.js';
import { writeFileAtomic } from '../plan/atomic-write.js';
import { blockProvider, findBlocks, type SchemaBlock } from '../prisma/providers.js';
import { InitError } from './errors.js';

export interface InitIo {
  out: (s: string) => void;
  cwd: string;
}

export interface InitOptions {
  schema?: string;
  out?: string;
  dryRun?: boolean;
}

export { InitError };

interface PackageJson {
  type?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  prisma?: { schema?: string };
}

const posix = (p: string): string => p.split(path.sep).join('/');

/** Prisma's own lookup: package.json `prisma.schema`, prisma/schema.prisma, then the prisma/schema/ folder. */
export function defaultSchemaPath(cwd: string, pkg: PackageJson): string {
  if (pkg.prisma?.schema) return pkg.prisma.schema;
  if (existsSync(path.join(cwd, 'prisma', 'schema.prisma'))) return 'prisma/schema.prisma';
  if (existsSync(path.join(cwd, 'prisma', 'schema')) && statSync(path.join(cwd, 'prisma', 'schema')).isDirectory()) return 'prisma/schema';
  return 'prisma/schema.prisma';
}

function schemaText(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  if (statSync(file).isDirectory()) {
    const main = path.join(file, 'schema.prisma');
    return existsSync(main) ? readFileSync(main, 'utf8') : undefined;
  }
  return readFileSync(file, 'utf8');
}

function blockValue(text: string, block: SchemaBlock, key: string): string | undefined {
  const re = new RegExp(`^\\s*${key}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*")`);
  for (const line of text.slice(block.bodyStart, block.bodyEnd).split('\n')) {
    const m = re.exec(line);
    if (m) return JSON.parse(m[1]!) as string;
  }
  return undefined;
}

/** The view of templates/project/prisma.ts.hbs for the schema's generator and datasource. */
export function prismaModuleView(text: string | undefined, schemaDir: string, serverDir: string): { clientImport: string; adapterImport: string; clientOptions: string } {
  const blocks = text ? findBlocks(text) : [];
  const generator = blocks.find((b) => b.kind === 'generator' && ['prisma-client', 'prisma-client-js'].includes(blockProvider(text!, b) ?? ''));
  let clientImport = '@prisma/client';
  if (generator && blockProvider(text!, generator) === 'prisma-client') {
    const output = blockValue(text!, generator, 'output');
    if (output) {
      let rel = posix(path.relative(serverDir, path.resolve(schemaDir, output)));
      if (!rel.startsWith('.')) rel = `./${rel}`;
      clientImport = `${rel}/client.js`;
    }
  }
  const datasource = blocks.find((b) => b.kind === 'datasource');
  const provider = datasource ? blockProvider(text!, datasource) : 'sqlite';
  if (provider === 'postgresql')
    return {
      clientImport,
      adapterImport: "import { PrismaPg } from '@prisma/adapter-pg';",
      clientOptions: '{ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }',
    };
  if (provider === 'mysql')
    return {
      clientImport,
      adapterImport: "import { PrismaMariaDb } from '@prisma/adapter-mariadb';",
      clientOptions: "{ adapter: new PrismaMariaDb(process.env.DATABASE_URL ?? '') }",
    };
  return {
    clientImport,
    adapterImport: "import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';",
    clientOptions: "{ adapter: new PrismaBetterSqlite3({ url: process.env.DATABASE_URL ?? 'file:./dev.db' }) }",
  };
}

function hasDependency(pkg: PackageJson, ...names: string[]): boolean {
  return names.some((n) => pkg.dependencies?.[n] !== undefined || pkg.devDependencies?.[n] !== undefined);
}

/** The NestJS root module: src/app.module.ts, else the first file under src/ declaring `class AppModule`. */
function findAppModule(cwd: string): string | undefined {
  const conventional = path.join(cwd, 'src', 'app.module.ts');
  if (existsSync(conventional)) return conventional;
  return undefined;
}

/**
 * Adds `import { SyncModule } from '<rel>'` and `SyncModule` to the `imports`
 * of AppModule's `@Module({...})`. Returns the new text, or the same text
 * when it is already wired. Only those two places change.
 */
export async function wireAppModule(text: string, fileName: string, specifier: string): Promise<string> {
  const { Project, SyntaxKind, QuoteKind, IndentationText } = await import('ts-morph');
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { quoteKind: QuoteKind.Single, indentationText: IndentationText.TwoSpaces },
  });
  const file = project.createSourceFile(fileName, text);
  const cls = file.getClass('AppModule');
  const decorator = cls?.getDecorator('Module');
  if (!cls || !decorator) throw new InitError(`${fileName}: no \`@Module() class AppModule\` found; add SyncModule (from '${specifier}') to your root module's imports by hand`);
  let config = decorator.getArguments()[0];
  if (!config) {
    decorator.addArgument('{}');
    config = decorator.getArguments()[0]!;
  }
  const object = config.asKind(SyntaxKind.ObjectLiteralExpression);
  if (!object) throw new InitError(`${fileName}: @Module(...) of AppModule is not an object literal; add SyncModule to its imports by hand`);
  const importsProp = object.getProperty('imports');
  let changed = false;
  if (!importsProp) {
    // A text insertion right after `{`, in the object's own layout (ts-morph's
    // insertPropertyAssignment would reflow a one-line object).
    const first = object.getProperties()[0];
    const open = object.getStart() + 1;
    if (!first) file.insertText(open, ' imports: [SyncModule] ');
    else if (object.getText().includes('\n')) {
      const indent = /[ \t]*$/.exec(file.getFullText().slice(0, first.getStart()))![0];
      file.insertText(open, `\n${indent}imports: [SyncModule],`);
    } else file.insertText(open, ' imports: [SyncModule],');
    changed = true;
  } else {
    const array = importsProp.asKind(SyntaxKind.PropertyAssignment)?.getInitializerIfKind(SyntaxKind.ArrayLiteralExpression);
    if (!array) throw new InitError(`${fileName}: AppModule's \`imports\` is not an array literal; add SyncModule to it by hand`);
    if (!array.getElements().some((e) => e.getText() === 'SyncModule')) {
      array.addElement('SyncModule');
      changed = true;
    }
  }
  const existing = file.getImportDeclarations().find((d) => d.getNamedImports().some((n) => n.getName() === 'SyncModule'));
  if (!existing) {
    file.addImportDeclaration({ moduleSpecifier: specifier, namedImports: ['SyncModule'] });
    changed = true;
  }
  return changed ? file.getFullText() : text;
}

export async function runInit(opts: InitOptions, io: InitIo): Promise<void> {
  const cwd = io.cwd;
  const pkgFile = path.join(cwd, 'package.json');
  if (!existsSync(pkgFile)) throw new InitError(`no package.json in ${cwd}: run \`npm init -y\` first (init sets up an existing npm project)`);
  const pkgText = readFileSync(pkgFile, 'utf8');
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(pkgText) as PackageJson;
  } catch (err) {
    throw new InitError(`${pkgFile}: not valid JSON (${(err as Error).message})`);
  }

  const writes: { file: string; before?: string; after: string }[] = [];
  const write = (file: string, after: string, before?: string): void => {
    writes.push({ file, after, ...(before !== undefined ? { before } : {}) });
  };

  // Which side this project is: a server (NestJS / Prisma), an app (WatermelonDB, React Native, a web bundler), or both.
  const hasServer = hasDependency(pkg, '@nestjs/core', '@nestjs/common', '@prisma/client');
  const hasApp = hasDependency(pkg, '@nozbe/watermelondb', 'react-native', 'expo', 'vite');
  const targets = hasApp && !hasServer ? ['client'] : hasServer && !hasApp ? ['server', 'graphql', 'ops'] : undefined;

  // trackhub.config.json
  const configFile = path.join(cwd, CONFIG_FILE);
  let schema = opts.schema ?? defaultSchemaPath(cwd, pkg);
  let out = opts.out ?? 'src/sync';
  if (existsSync(configFile)) {
    const existing = JSON.parse(readFileSync(configFile, 'utf8')) as { schema?: string; out?: string };
    schema = existing.schema ?? schema;
    out = existing.out ?? out;
    io.out(`  keep     ${CONFIG_FILE} (schema ${schema}, out ${out})`);
  } else {
    write(configFile, `${JSON.stringify({ schema, out, ...(targets ? { targets } : {}) }, null, 2)}\n`);
  }

  // package.json "type": "module"
  if (pkg.type !== 'module') {
    const next = pkgText.includes('"type"')
      ? pkgText.replace(/"type"\s*:\s*"[^"]*"/, '"type": "module"')
      : pkgText.replace(/\{/, '{\n  "type": "module",');
    write(pkgFile, next, pkgText);
  }

  // tsconfig.json
  const tsconfig = path.join(cwd, 'tsconfig.json');
  const rootDir = posix(out).split('/')[0] === '.' || posix(out) === '.' ? '.' : posix(out).split('/')[0]!;
  if (!existsSync(tsconfig)) write(tsconfig, renderTemplate('project/tsconfig.json.hbs', { rootDir }));
  else io.out('  keep     tsconfig.json (yours: it needs experimentalDecorators, emitDecoratorMetadata, useDefineForClassFields false, module NodeNext)');

  // Server side: PrismaClient + SyncModule, wired into AppModule.
  if (hasServer || !hasApp) {
    const serverDir = path.join(cwd, out, 'server');
    const prismaFile = path.join(serverDir, 'prisma.ts');
    const schemaFile = path.resolve(cwd, schema);
    const schemaDir = existsSync(schemaFile) && statSync(schemaFile).isDirectory() ? schemaFile : path.dirname(schemaFile);
    if (!existsSync(prismaFile)) write(prismaFile, renderTemplate('project/prisma.ts.hbs', prismaModuleView(schemaText(schemaFile), schemaDir, serverDir)));
    const syncModule = path.join(serverDir, 'sync.module.ts');
    if (!existsSync(syncModule)) write(syncModule, renderTemplate('project/sync-module.ts.hbs', {}));
    const appModule = findAppModule(cwd);
    if (appModule) {
      let rel = posix(path.relative(path.dirname(appModule), syncModule)).replace(/\.ts$/, '.js');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      const before = readFileSync(appModule, 'utf8');
      const after = await wireAppModule(before, appModule, rel);
      if (after !== before) write(appModule, after, before);
      else io.out(`  keep     ${posix(path.relative(cwd, appModule))} (SyncModule already wired)`);
    }
  }

  for (const w of writes) {
    const rel = posix(path.relative(cwd, w.file));
    if (w.before === undefined) io.out(`  create   ${rel}`);
    else {
      io.out(`  update   ${rel}`);
      io.out(createTwoFilesPatch(`a/${rel}`, `b/${rel}`, w.before, w.after).trimEnd());
    }
  }
  if (opts.dryRun) {
    io.out(`dry run, nothing written: ${writes.length} file(s) would change`);
    return;
  }
  for (const w of writes) await writeFileAtomic(w.file, w.after);
  io.out(
    writes.length
      ? `init: ${writes.length} file(s) written. Next: add \`/// @sync\` to your models, run \`npx trackhub-gen fix-schema\`, then \`npx trackhub-gen generate\` (or \`npx trackhub-gen dev\`)`
      : 'init: already set up, nothing changed',
  );
}
