/**
 * npm run bench:web -- [--records 20000]
 *
 * Initial pull of N records (80 % Spaces, 20 % Groups, one tenant) into IndexedDB in
 * Debian's chromium (playwright-core): the generated client's syncPull() against
 * WatermelonDB's own synchronize() on the same schema, models and LokiJS adapter, in
 * the same bench page (examples/web/bench.html), same server, same data, each in a
 * fresh browser context. Prints time and the tab's JS heap after the pull
 * (performance.memory), and writes bench-results/web-latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromiumAvailability, launchChromium, serveDemo } from '../test/support/browser.js';
import { REPO, startServerProcess } from './lib.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '20000' } } });
const records = Number(values.records);
const chromium = chromiumAvailability();
if (!chromium.path) {
  console.error(`bench:web needs chromium: ${chromium.reason}`);
  process.exit(1);
}

const server = await startServerProcess(['sqlite', '--seed', String(records), '--tenant', 'bench']);
const demo = await serveDemo(new URL(server.url).origin);
const browser = await launchChromium(chromium.path);
const results: Record<string, any>[] = [];
try {
  for (const mode of ['trackhub', 'watermelon']) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${demo.url}bench.html?mode=${mode}&tenant=bench`);
    await page.waitForFunction(() => (window as any).benchResult, undefined, { timeout: 600_000, polling: 250 });
    const result = (await page.evaluate(() => (window as any).benchResult)) as Record<string, any>;
    if (result.error) throw new Error(`${mode}: ${result.error}`);
    if (result.rows !== records) throw new Error(`${mode}: ${result.rows} rows stored, expected ${records}`);
    results.push(result);
    await context.close();
  }
} finally {
  await browser.close();
  await demo.close();
  await server.stop();
}

const [ours, theirs] = results as [Record<string, any>, Record<string, any>];
const line = (r: Record<string, any>, name: string): string =>
  `${name.padEnd(44)} ${(r.ms / 1000).toFixed(2).padStart(7)} s   heap ${String(r.heapAfter).padStart(6)} MB`;
console.log(`\nInitial pull of ${records} records into IndexedDB (chromium ${chromium.path})`);
console.log(line(ours, 'generated client syncPull() (LokiJS/IndexedDB)'));
console.log(line(theirs, 'WatermelonDB synchronize() (LokiJS/IndexedDB)'));
console.log(`ratio (generated / synchronize): ${(ours.ms / theirs.ms).toFixed(2)}x time, ${(ours.heapAfter / theirs.heapAfter).toFixed(2)}x heap\n`);
mkdirSync(path.join(REPO, 'bench-results'), { recursive: true });
writeFileSync(
  path.join(REPO, 'bench-results/web-latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), records, trackhub: ours, watermelon: theirs }, null, 2)}\n`,
);
