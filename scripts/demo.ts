/**
 * npm run demo -- [--port 5173] [--api-port 4000]
 *
 * The web demo: starts the generated example server on a fresh embedded SQLite
 * database (scripts/example-server.ts), builds examples/web with Vite and serves it
 * with Vite's preview server, which proxies /graphql and /uploads to the API.
 * Open the printed URL in two browsers (or a normal and a private window) to see
 * two devices sync; `?tenant=<name>` picks the tenant.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build, preview } from 'vite';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5173' },
    'api-port': { type: 'string', default: '4000' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const apiPort = Number(values['api-port']);
const port = Number(values.port);
for (const [name, value] of [['--port', port], ['--api-port', apiPort]] as const) {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`error: ${name} must be a port number`);
    process.exit(2);
  }
}

const api = spawn(
  process.execPath,
  ['--conditions=trackhub-source', '--import', '@swc-node/register/esm-register', 'scripts/example-server.ts', '--port', String(apiPort)],
  { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
);
const apiUrl = await new Promise<string>((resolve, reject) => {
  let out = '';
  api.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /GraphQL: (http:\/\/\S+)\/graphql/.exec(out);
    if (match) resolve(match[1]!);
  });
  api.once('exit', (code) => reject(new Error(`the example server exited (${code}):\n${out}`)));
});
process.env.TRACKHUB_API = apiUrl;
const config = path.join(repo, 'examples/web/vite.config.ts');
await build({ configFile: config });
const server = await preview({ configFile: config, preview: { port, host: values.host, strictPort: true } });
console.log(`trackhub web demo: http://${values.host}:${port}/  (API ${apiUrl}/graphql on SQLite)`);
console.log('open it in two browsers to see two devices sync; Ctrl+C stops both');

const stop = (): void => {
  api.kill('SIGTERM');
  server.httpServer.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
