/** Writes the emitted server for the fixture into a temp dir inside the repo (so `trackhub-gen/...` self-references resolve). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { emitServer } from '../../../src/emitters/server/index.js';
import { defaultEmitOptions, type EmittedFile } from '../../../src/emitters/types.js';
import { fixtureProject } from './fixture.js';
import { REPO_ROOT } from './prisma.js';

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
  const files = emitServer(await fixtureProject(), defaultEmitOptions);
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
