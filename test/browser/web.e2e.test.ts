/**
 * The generated client in a real browser: the web demo (examples/web, built by
 * Vite) in Debian's chromium through playwright-core, against the generated
 * example server on SQLite over HTTP, with a Node device (the generated client
 * on better-sqlite3) as the other side. Every page gets a fresh browser context
 * (its own IndexedDB) and its own tenant.
 *
 * Skipped with a loud warning where chromium is missing; fails in CI (CI=true).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type OfflineFirstClient } from '../../generated-example/client/generated/index.js';
import { chromiumAvailability, launchChromium, REPO, serveDemo, type DemoServer } from '../support/browser.js';
import { startExampleServer, type RunningServer } from '../support/example-server.js';

const chromium = chromiumAvailability();

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(chromium.path === null)('the generated client in Chromium (web demo, SQLite server)', () => {
  let server: RunningServer;
  let demo: DemoServer;
  let browser: Browser;
  const dirs: string[] = [];
  const devices: OfflineFirstClient[] = [];
  const contexts: BrowserContext[] = [];
  /** Console errors of every page (none may mention unsafeSqlQuery). */
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    server = await startExampleServer({ provider: 'sqlite' });
    demo = await serveDemo(new URL(server.url).origin);
    browser = await launchChromium(chromium.path!);
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await demo?.close();
    for (const d of devices) await d.close().catch(() => {});
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function nodeDevice(tenant: string, user = 'node'): OfflineFirstClient {
    const dir = mkdtempSync(path.join(tmpdir(), 'trackhub-browser-node-'));
    dirs.push(dir);
    const client = createClient({ tenantId: tenant, url: server.url, token: `dev:${tenant}:${user}`, dbDir: dir });
    devices.push(client);
    return client;
  }

  async function context(): Promise<BrowserContext> {
    const c = await browser.newContext();
    contexts.push(c);
    return c;
  }

  async function open(ctx: BrowserContext, tenant: string): Promise<Page> {
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${demo.url}?tenant=${tenant}`);
    return page;
  }

  async function ready(page: Page): Promise<void> {
    await page.waitForFunction(() => Boolean((window as any).trackhub));
    await page.getByTestId('queue').waitFor();
  }

  const spaceNames = (page: Page): Promise<string[]> => page.getByTestId('space-name').allTextContents();

  async function addSpace(page: Page, name: string): Promise<void> {
    await page.getByTestId('new-space-name').fill(name);
    await page.getByRole('button', { name: 'Add space' }).click();
    await page.getByTestId('space-name').filter({ hasText: name }).waitFor();
  }

  async function setOfflineSwitch(page: Page, offline: boolean): Promise<void> {
    const box = page.getByTestId('offline-switch');
    if ((await box.isChecked()) !== offline) await box.click();
    await page.getByTestId('network').filter({ hasText: offline ? 'offline' : 'online' }).waitFor();
  }

  const serverSpace = (tenant: string, name: string) =>
    server.prisma.space.findFirst({ where: { tenantId: tenant, name, deletedAt: null } });

  it('created offline, kept across a reload (IndexedDB), synced when back online: the server and a Node device have it', async () => {
    const tenant = 'web-offline';
    const page = await open(await context(), tenant);
    await ready(page);
    await setOfflineSwitch(page, true);
    await addSpace(page, 'Made offline');
    await page.getByTestId('queue').filter({ hasText: 'queue: 1' }).waitFor();
    expect(await serverSpace(tenant, 'Made offline')).toBeNull();

    await new Promise((r) => setTimeout(r, 1_500)); // LokiJS autosave to IndexedDB
    await page.reload();
    await ready(page);
    await page.getByTestId('space-name').filter({ hasText: 'Made offline' }).waitFor();
    expect(await spaceNames(page)).toEqual(['Made offline']);
    expect(await page.getByTestId('queue').textContent()).toContain('queue: 1');
    expect(await serverSpace(tenant, 'Made offline')).toBeNull();

    await setOfflineSwitch(page, false);
    await page.getByTestId('queue').filter({ hasText: 'queue: 0' }).waitFor({ timeout: 15_000 });
    expect(await serverSpace(tenant, 'Made offline')).toMatchObject({ name: 'Made offline', ownerId: 'web' });
    const node = nodeDevice(tenant);
    await node.syncAll();
    expect((await node.spaces.list()).map((s) => s.name)).toEqual(['Made offline']);

    // The browser's own network signal (navigator.onLine + online/offline events) drives the worker too.
    await page.context().setOffline(true);
    await page.getByTestId('network').filter({ hasText: 'offline' }).waitFor();
    await page.context().setOffline(false);
    await page.getByTestId('network').filter({ hasText: 'online' }).waitFor();
  });

  it('a Node device edits: the page shows it without a reload (observed queries)', async () => {
    const tenant = 'web-observe';
    const node = nodeDevice(tenant);
    const space = await node.spaces.create({ name: 'From node', ownerId: 'node' });
    await node.groups.create({ name: 'Node group', spaceId: space.id });
    await node.syncAll();
    const page = await open(await context(), tenant);
    await ready(page);
    await page.getByTestId('space-name').filter({ hasText: 'From node' }).waitFor();
    await page.getByTestId('group').filter({ hasText: 'Node group' }).waitFor();

    let navigations = 0;
    page.on('framenavigated', () => (navigations += 1));
    await node.spaces.update(space.id, { name: 'Renamed on node' });
    await node.syncAll();
    await page.getByTestId('space-name').filter({ hasText: 'Renamed on node' }).waitFor({ timeout: 15_000 });
    expect(await spaceNames(page)).toEqual(['Renamed on node']);
    expect(navigations).toBe(0);

    // And the other way: the page renames, the Node device pulls it.
    page.once('dialog', (d) => void d.accept('Renamed in the page'));
    await page.getByRole('button', { name: 'Rename' }).first().click();
    await page.getByTestId('space-name').filter({ hasText: 'Renamed in the page' }).waitFor();
    await waitFor(async () => (await serverSpace(tenant, 'Renamed in the page')) !== null, 15_000, 'the rename on the server');
    await node.syncAll();
    expect((await node.spaces.get(space.id))?.name).toBe('Renamed in the page');
  });

  it('an equal-timestamp conflict waits in the page and is resolved by clicking "Keep mine"', async () => {
    const tenant = 'web-conflict';
    const node = nodeDevice(tenant);
    const space = await node.spaces.create({ name: 'Shared', ownerId: 'node' });
    await node.syncAll();
    const page = await open(await context(), tenant);
    await ready(page);
    await page.getByTestId('space-name').filter({ hasText: 'Shared' }).waitFor();

    await setOfflineSwitch(page, true);
    page.once('dialog', (d) => void d.accept('Shared: page'));
    await page.getByRole('button', { name: 'Rename' }).first().click();
    await page.getByTestId('space-name').filter({ hasText: 'Shared: page' }).waitFor();
    await node.spaces.update(space.id, { name: 'Shared: node' });
    await node.syncAll();
    // The node's write landed at the very millisecond the page edited (two real clocks cannot tie
    // reliably): stamp the server copy with the page's edit time.
    const editedAt = await page.evaluate(async () => {
      const { client } = (window as any).trackhub;
      const [local] = await client.spaces.list();
      const [op] = await client.queue.open('Space', [local.id]);
      return op.editedAt as number;
    });
    const serverId = (await node.spaces.get(space.id))!.serverId!;
    await server.prisma.space.update({ where: { id: serverId }, data: { updatedAt: new Date(editedAt) } });

    await setOfflineSwitch(page, false);
    const conflict = page.getByTestId('conflict');
    await conflict.waitFor({ timeout: 15_000 });
    expect(await conflict.textContent()).toContain('Shared: node');
    expect(await spaceNames(page)).toEqual(['Shared: page']); // the page keeps its copy meanwhile
    await conflict.getByRole('button', { name: 'Keep mine' }).click();
    await conflict.waitFor({ state: 'detached', timeout: 15_000 });
    await waitFor(async () => (await server.prisma.space.findUnique({ where: { id: serverId } }))?.name === 'Shared: page', 15_000, 'the resolution on the server');
    await node.syncAll();
    expect((await node.spaces.get(space.id))?.name).toBe('Shared: page');
  });

  it('a photo picked offline is uploaded (resumable, from the Blob) when online, and its URL syncs', async () => {
    const tenant = 'web-photo';
    const page = await open(await context(), tenant);
    await ready(page);
    await addSpace(page, 'With photo');
    await waitFor(async () => (await serverSpace(tenant, 'With photo')) !== null, 15_000, 'the space on the server');
    await setOfflineSwitch(page, true);
    // A real PNG drawn in the page, noisy enough to be over the uploader's 256 KiB threshold,
    // so it goes through a resumable session, sliced from the Blob.
    const png = await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 480;
      canvas.height = 320;
      const g = canvas.getContext('2d')!;
      const image = g.createImageData(480, 320);
      let seed = 7;
      for (let i = 0; i < image.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const x = (i / 4) % 480;
        const y = Math.floor(i / 4 / 480);
        image.data[i] = 40 + (x / 480) * 120 + (seed % 40);
        image.data[i + 1] = 90 + (y / 320) * 110 + ((seed >> 8) % 40);
        image.data[i + 2] = 200 - (x / 480) * 80 + ((seed >> 16) % 40);
        image.data[i + 3] = 255;
      }
      g.putImageData(image, 0, 0);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    });
    const bytes = Buffer.from(png);
    expect(bytes.length).toBeGreaterThan(256 * 1024);
    await page.getByTestId('photo-input').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: bytes });
    await page.getByTestId('uploads').filter({ hasText: 'uploads: 1' }).waitFor();
    await new Promise((r) => setTimeout(r, 1_500));
    await page.reload(); // the Blob waits in IndexedDB
    await ready(page);
    await page.getByTestId('uploads').filter({ hasText: 'uploads: 1' }).waitFor();
    expect((await serverSpace(tenant, 'With photo'))?.coverUrl).toBeNull();

    const uploadRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/uploads/')) uploadRequests.push(`${r.method()} ${new URL(r.url()).pathname.replace(/[^/]{20,}$/, ':id')}`);
    });
    await setOfflineSwitch(page, false);
    await page.getByTestId('uploads').filter({ hasText: 'uploads: 0' }).waitFor({ timeout: 20_000 });
    // A resumable session: created, then the bytes in PATCH chunks (not one multipart POST).
    expect(uploadRequests.slice(0, 2)).toEqual(['POST /uploads/Space/coverUrl/sessions', 'PATCH /uploads/sessions/:id']);
    await waitFor(async () => (await serverSpace(tenant, 'With photo'))?.coverUrl != null, 15_000, 'coverUrl on the server');
    const url = (await serverSpace(tenant, 'With photo'))!.coverUrl as string;
    const node = nodeDevice(tenant);
    await node.syncAll();
    expect((await node.spaces.list())[0]?.coverUrl).toBe(url);
    const res = await fetch(url, { headers: { authorization: `Bearer dev:${tenant}:node` } });
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    // The page shows it (fetched with the token).
    await page.locator('img[data-testid="photo"][src^="blob:"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('img[data-testid="photo"]').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(480);

    // The README's screenshot: a second space and a group, all synced.
    page.once('dialog', (d) => void d.accept('Design'));
    await page.getByRole('button', { name: 'Add group' }).first().click();
    await page.getByTestId('group').filter({ hasText: 'Design' }).waitFor();
    await addSpace(page, 'Field team');
    await waitFor(async () => (await server.prisma.group.count({ where: { tenantId: tenant } })) === 1, 15_000, 'the group on the server');
    await page.getByTestId('queue').filter({ hasText: 'queue: 0' }).waitFor({ timeout: 15_000 });
    // UPDATE_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to .cache/.
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? path.join(REPO, 'docs/web-demo.png') : path.join(REPO, '.cache/web-demo.png');
    await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1280, height: 380 } });
  });

  it('two tabs on one tenant: the second waits for the first, takes over when it closes, nothing lost or duplicated', async () => {
    const tenant = 'web-tabs';
    const ctx = await context();
    const first = await open(ctx, tenant);
    await ready(first);
    await setOfflineSwitch(first, true);
    await addSpace(first, 'From tab 1');
    const second = await open(ctx, tenant);
    await second.getByTestId('waiting').waitFor();
    expect(await second.evaluate(() => Boolean((window as any).trackhub))).toBe(false);

    await new Promise((r) => setTimeout(r, 1_500));
    await first.close();
    await ready(second);
    await second.getByTestId('space-name').filter({ hasText: 'From tab 1' }).waitFor();
    await setOfflineSwitch(second, false);
    await addSpace(second, 'From tab 2');
    await waitFor(async () => (await server.prisma.space.count({ where: { tenantId: tenant } })) === 2, 15_000, 'two spaces');
    const rows = await server.prisma.space.findMany({ where: { tenantId: tenant }, orderBy: { name: 'asc' } });
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['From tab 1', 'From tab 2']);
    expect((await spaceNames(second)).sort()).toEqual(['From tab 1', 'From tab 2']);
  });

  it('logged no error on LokiJS pulls (no Q.unsafeSqlQuery)', () => {
    expect(consoleErrors.filter((e) => /unsafeSqlQuery/i.test(e))).toEqual([]);
  });
});
