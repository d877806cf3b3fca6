import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Every file below `dir`, as posix paths relative to it. */
export function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(dir, `${rel}${e.name}/`) : [`${rel}${e.name}`],
  );
}
