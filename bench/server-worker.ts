/**
 * The generated example server in its own process:
 *   node --import @swc-node/register/esm-register bench/server-worker.ts <sqlite|postgresql> [pgUrl] [--seed N --tenant T] [--replica]
 * (`--replica`: another replica on the same database: keeps the tables the first one created)
 * Prints `@@READY <graphql url>`; exits (printing @@RESULT with its peak RSS) when stdin closes.
 */
import { parseArgs } from 'node:util';

import { percentile, result } from './lib.js';
import { seed, startServer } from './server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '0' }, tenant: { type: 'string', default: 'bench' }, replica: { type: 'boolean', default: false } },
});
const [provider, url] = positionals;
const server = await startServer(provider === 'postgresql' ? { provider: 'postgresql', url: url! } : { provider: 'sqlite' }, !values.replica);
const n = Number(values.seed);
const t0 = performance.now();
const seeded = n > 0 ? await seed(server.prisma, values.tenant!, n) : { spaces: 0, groups: 0 };
const seedMs = performance.now() - t0;
process.stdout.write(`@@READY ${server.url}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  const ms = server.serverMs.sort((a, b) => a - b);
  result({ seeded, seedMs, requests: ms.length, serverP50: percentile(ms, 50), serverP99: percentile(ms, 99) });
  process.exit(0);
});
