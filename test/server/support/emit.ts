/** Writes the emitted server for the fixture into a temp dir inside the repo (so `trackhub-gen/...` self-references resolve). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { createRequire } from 'node:module';

import { emitServer } from '../../../src/emitters/server/index.js';
import { defaultEmitOptions, type EmittedFile } from '../../../src/emitters/types.js';
import type { ProjectIR } from '../../../src/model/types.js';
import { fixtureProject } from './fixture.js';
import { REPO_ROOT } from './prisma.js';

const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');

export interface EmittedServer {
  dir: string;
  files: EmittedFile[];
  remove(): void;
}

export const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    useDefineForClassFields: false,
    types: ['node'],
  },
  include: ['server'],
};

export async function emitFixtureServer(label: string): Promise<EmittedServer> {
  return emitProjectServer(await fixtureProject(), label);
}

export function emitProjectServer(project: ProjectIR, label: string): EmittedServer {
  const files = emitServer(project, defaultEmitOptions);
  const root = path.join(REPO_ROOT, '.cache', 'server-tests');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(path.join(root, `${label}-`));
  for (const file of files) {
    const target = path.join(dir, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(STRICT_TSCONFIG, null, 2));
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `tsc -p <dir>/tsconfig.json` through the compiler API: formatted diagnostics ('' when clean) and the program's files. */
export function typecheck(dir: string): { diagnostics: string; files: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  if (!config.options.strict) throw new Error('tsconfig is not strict');
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  });
  return { diagnostics, files: program.getSourceFiles().map((f) => f.fileName) };
}
