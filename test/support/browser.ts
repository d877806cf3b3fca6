/**
 * Browser tests: Debian's chromium driven by playwright-core (never
 * `playwright install`), and the web demo (examples/web) built with Vite and
 * served by Vite's preview server, which proxies `/graphql` and `/uploads` to a
 * generated example server started by the test.
 *
 * `chromiumAvailability()` finds the executable (`TRACKHUB_CHROMIUM`, else
 * `chromium` / `chromium-browser` on PATH). Where there is none it logs a loud
 * warning and the suite is skipped; with CI=true it throws, so CI never skips it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_CONFIG = path.join(REPO, 'examples/web/vite.config.ts');

/** Flags that make Debian's chromium run headless as root in a container (BUILD-NOTES). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-precise-memory-info',
];

function onPath(name: string): string | null {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    return found || null;
  } catch {
    return null;
  }
}

export function chromiumAvailability(): { path: string | null; reason: string } {
  const explicit = process.env.TRACKHUB_CHROMIUM;
  let reason: string;
  if (explicit) {
    if (existsSync(explicit)) return { path: explicit, reason: '' };
    reason = `TRACKHUB_CHROMIUM=${explicit} does not exist`;
  } else {
    const found = onPath('chromium') ?? onPath('chromium-browser');
    if (found) return { path: found, reason: '' };
    reason = 'no chromium executable (install it: `sudo apt-get install -y chromium`, or set TRACKHUB_CHROMIUM)';
  }
  if (['1', 'true'].includes((process.env.CI ?? '').toLowerCase())) throw new Error(`CI=true and ${reason}`);
  console.warn(`\n[browser] SKIPPING the Chromium suites: ${reason}\n`);
  return { path: null, reason };
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

export interface DemoServer {
  /** Base URL of the page, e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

/** Builds the demo (into .cache/web-demo) and serves it, proxying the API to `apiOrigin`. */
export async function serveDemo(apiOrigin: string, outDir = path.join(REPO, '.cache/web-demo')): Promise<DemoServer> {
  const vite = await import('vite');
  await vite.build({ configFile: DEMO_CONFIG, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  const server = await vite.preview({
    configFile: DEMO_CONFIG,
    logLevel: 'error',
    build: { outDir },
    preview: {
      host: '127.0.0.1',
      port: 0,
      strictPort: false,
      proxy: {
        '/graphql': { target: apiOrigin, changeOrigin: false },
        '/uploads': { target: apiOrigin, changeOrigin: false },
      },
    },
  });
  const address = server.httpServer.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.httpServer.close(() => resolve())),
  };
}
