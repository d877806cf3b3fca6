/**
 * The generated example server in its own process:
 *   node --import @swc-node/register/esm-register bench/server-worker.ts <sqlite|postgresql> [pgUrl] [--seed N --tenant T]
 * Prints `@@READY <graphql url>`; exits (printing @@RESULT with its peak RSS) when stdin closes.
 */
import { parseArgs } from 'node:util';

import { result } from './lib.js';
import { seed, startServer } from './server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '0' }, tenant: { type: 'string', default: 'bench' } },
});
const [provider, url] = positionals;
const server = await startServer(provider === 'postgresql' ? { provider: 'postgresql', url: url! } : { provider: 'sqlite' });
const n = Number(values.seed);
const t0 = performance.now();
const seeded = n > 0 ? await seed(server.prisma, values.tenant!, n) : { spaces: 0, groups: 0 };
const seedMs = performance.now() - t0;
process.stdout.write(`@@READY ${server.url}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.stop();
  result({ seeded, seedMs });
  process.exit(0);
});
