import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing its output (same code path as bin/trackhub-gen.mjs). */
export async function runCli(args: string[], cwd = process.cwd()): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'trackhub-gen', ...args], {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    cwd,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
