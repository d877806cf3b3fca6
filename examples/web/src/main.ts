/**
 * The web demo on the generated client: Spaces with their Groups (create, rename,
 * delete), a photo per Space, an offline switch, the sync state and the conflicts
 * waiting for the user. Everything is written locally first (IndexedDB through
 * LokiJS) and synced in the background by a SyncWorker.
 *
 * Open it twice (two browsers, or `?tenant=` the same in a private window) to see
 * two devices sync. Two tabs of one browser share one database: the second tab
 * waits until the first one closes (see ownTenantDatabase).
 */
import { SyncWorker, httpUploader } from 'trackhub-gen/runtime/client';
import type { ConflictInfo } from 'trackhub-gen/runtime/client';
import { browserNetworkMonitor, ownTenantDatabase, webAdapter } from 'trackhub-gen/runtime/client/web';

import { createClient } from '../../../generated-example/client/generated/index.js';
import type { GroupRecord, OfflineFirstClient, SpaceRecord } from '../../../generated-example/client/generated/index.js';

const params = new URLSearchParams(location.search);
const tenant = params.get('tenant') ?? 'demo';
const user = params.get('user') ?? 'web';
const OFFLINE_KEY = `trackhub-demo-offline:${tenant}`;

const statusEl = document.getElementById('status')!;
const appEl = document.getElementById('app')!;

function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The offline switch: a local airplane mode, kept across reloads. */
let offlineSwitch = localStorage.getItem(OFFLINE_KEY) === '1';
let networkUp = navigator.onLine;

const guardedFetch = ((input: RequestInfo | URL, init?: RequestInit) =>
  offlineSwitch ? Promise.reject(new TypeError('offline (the demo switch is on)')) : fetch(input, init)) as typeof fetch;

async function main(): Promise<void> {
  statusEl.textContent = 'opening the database...';
  const tab = await ownTenantDatabase(tenant, {
    onWaiting: () => {
      statusEl.innerHTML = '<span class="pill" data-testid="tab">tab: waiting</span>';
      appEl.innerHTML = `<div class="banner" data-testid="waiting">Tenant <b>${esc(tenant)}</b> is open in another tab of this browser. This tab takes over when that one closes, so no change is ever written by two tabs at once.</div>`;
    },
  });
  const client = createClient({
    tenantId: tenant,
    url: new URL('/graphql', location.href).href,
    token: `dev:${tenant}:${user}`,
    adapter: webAdapter(),
    fetch: guardedFetch,
    uploader: httpUploader({ url: new URL('/uploads', location.href).href, token: `dev:${tenant}:${user}`, fetch: guardedFetch }),
  });
  const worker = new SyncWorker(client, { intervalMs: 2_000, debounceMs: 200, initialBackoffMs: 1_000, maxBackoffMs: 5_000 });
  const applyNetwork = (): void => worker.setOnline(networkUp && !offlineSwitch);
  browserNetworkMonitor({
    setOnline: (online) => {
      networkUp = online;
      applyNetwork();
    },
  });
  worker.start();
  (window as unknown as { trackhub: unknown }).trackhub = { client, worker, tab, tenant };
  render(client, worker);
}

interface View {
  spaces: SpaceRecord[];
  groups: GroupRecord[];
  uploading: Set<string>;
}

function render(client: OfflineFirstClient, worker: SyncWorker): void {
  appEl.innerHTML = `
    <section>
      <h2>Spaces</h2>
      <form id="new-space"><input type="text" name="name" placeholder="New space name" data-testid="new-space-name" required />
      <button class="primary" type="submit">Add space</button></form>
      <div id="spaces" data-testid="spaces"></div>
    </section>
    <aside>
      <section><h2>Sync</h2><div id="sync"></div>
        <label><input type="checkbox" id="offline" data-testid="offline-switch" ${offlineSwitch ? 'checked' : ''}/> Offline</label>
        <button id="sync-now" type="button">Sync now</button></section>
      <section style="margin-top:16px"><h2>Conflicts</h2><div id="conflicts" data-testid="conflicts"><p class="muted">none</p></div></section>
    </aside>`;
  const spacesEl = document.getElementById('spaces')!;
  const syncEl = document.getElementById('sync')!;
  const conflictsEl = document.getElementById('conflicts')!;
  const view: View = { spaces: [], groups: [], uploading: new Set() };

  const drawSpaces = (): void => {
    const sorted = [...view.spaces].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    spacesEl.innerHTML = sorted.length
      ? sorted
          .map((s) => {
            const groups = view.groups.filter((g) => g.spaceId === s.id).sort((a, b) => a.name.localeCompare(b.name));
            const photo = s.coverUrl
              ? `<img data-src="${esc(s.coverUrl)}" ${photos.has(s.coverUrl) ? `src="${photos.get(s.coverUrl)}"` : ''} alt="photo of ${esc(s.name)}" data-testid="photo" />`
              : `<div class="nophoto">${view.uploading.has(s.id) ? 'uploading...' : 'no photo'}</div>`;
            return `<div class="space" data-testid="space" data-id="${esc(s.id)}">
              ${photo}
              <div>
                <b data-testid="space-name">${esc(s.name)}</b> <span class="muted">${s.serverId ? 'synced' : 'local only'}</span>
                <div>
                  <button type="button" data-act="rename" data-id="${esc(s.id)}">Rename</button>
                  <button type="button" data-act="delete" data-id="${esc(s.id)}">Delete</button>
                  <button type="button" data-act="add-group" data-id="${esc(s.id)}">Add group</button>
                  <label>Photo <input type="file" accept="image/*" data-photo="${esc(s.id)}" data-testid="photo-input" /></label>
                </div>
                <ul class="groups">${groups
                  .map(
                    (g) => `<li data-testid="group">${esc(g.name)}
                      <button type="button" data-act="rename-group" data-id="${esc(g.id)}">Rename</button>
                      <button type="button" data-act="delete-group" data-id="${esc(g.id)}">Delete</button></li>`,
                  )
                  .join('')}</ul>
              </div>
            </div>`;
          })
          .join('')
      : '<p class="muted">No spaces yet.</p>';
    loadPhotos();
  };

  // Media URLs need the bearer token: fetch each photo once and show it from an object URL.
  const photos = new Map<string, string>();
  const loading = new Set<string>();
  const loadPhotos = (): void => {
    for (const img of spacesEl.querySelectorAll<HTMLImageElement>('img[data-src]')) {
      const url = img.dataset.src!;
      if (photos.has(url) || loading.has(url)) continue;
      loading.add(url);
      void guardedFetch(url, { headers: { authorization: `Bearer dev:${tenant}:${user}` } })
        .then(async (res) => {
          if (!res.ok) throw new Error(`photo: HTTP ${res.status}`);
          photos.set(url, URL.createObjectURL(await res.blob()));
          drawSpaces();
        })
        .catch(() => {})
        .finally(() => loading.delete(url));
    }
  };

  client.spaces.observe().subscribe((spaces) => {
    view.spaces = spaces;
    drawSpaces();
  });
  client.groups.observe().subscribe((groups) => {
    view.groups = groups;
    drawSpaces();
  });

  document.getElementById('new-space')!.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const input = form.elements.namedItem('name') as HTMLInputElement;
    const name = input.value.trim();
    if (!name) return;
    input.value = '';
    void client.spaces.create({ name, ownerId: user });
  });

  spacesEl.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest('button');
    if (!button) return;
    const id = button.dataset.id!;
    const act = button.dataset.act;
    if (act === 'rename') {
      const current = view.spaces.find((s) => s.id === id);
      const name = prompt('New name of the space', current?.name ?? '');
      if (name) void client.spaces.update(id, { name });
    } else if (act === 'delete') void client.spaces.delete(id);
    else if (act === 'add-group') {
      const name = prompt('Name of the new group');
      if (name) void client.groups.create({ name, spaceId: id });
    } else if (act === 'rename-group') {
      const current = view.groups.find((g) => g.id === id);
      const name = prompt('New name of the group', current?.name ?? '');
      if (name) void client.groups.update(id, { name });
    } else if (act === 'delete-group') void client.groups.delete(id);
  });

  spacesEl.addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const id = input.dataset.photo;
    const file = input.files?.[0];
    if (!id || !file) return;
    view.uploading.add(id);
    drawSpaces();
    void client.spaces.attachCoverUrl(id, file).then(() => worker.trigger());
  });

  document.getElementById('offline')!.addEventListener('change', (event) => {
    offlineSwitch = (event.target as HTMLInputElement).checked;
    localStorage.setItem(OFFLINE_KEY, offlineSwitch ? '1' : '0');
    worker.setOnline(networkUp && !offlineSwitch);
  });
  document.getElementById('sync-now')!.addEventListener('click', () => void worker.syncNow().catch(() => {}));

  conflictsEl.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest('button');
    if (!button) return;
    const id = button.dataset.conflict!;
    const choice = button.dataset.choice;
    const conflict = shownConflicts.find((c) => c.id === id);
    if (!conflict) return;
    if (choice === 'local' || choice === 'server') void client.resolveConflict(id, choice);
    else if (choice === 'merge') {
      const local = conflict.localData ?? {};
      const server = conflict.serverData ?? {};
      // The demo's merge: both names, the rest of the device's copy.
      void client.resolveConflict(id, { data: { ...server, ...local, name: `${String(local.name)} + ${String(server.name)}` } });
    }
  });

  let shownConflicts: ConflictInfo[] = [];
  let shownKey = '';
  const refresh = async (): Promise<void> => {
    const [queue, uploads, conflicts] = await Promise.all([
      client.queueSize(),
      client.uploads.pending(),
      client.listConflicts({ resolved: false }),
    ]);
    if (uploads === 0) view.uploading.clear();
    const online = worker.isOnline;
    const last = worker.lastReport?.finishedAt ?? null;
    const error = worker.lastError ? String((worker.lastError as Error).message ?? worker.lastError) : '';
    const html = `
      <span class="pill ${online ? 'online' : 'offline'}" data-testid="network">${online ? 'online' : 'offline'}</span>
      <span class="pill" data-testid="queue">queue: ${queue}</span>
      <span class="pill" data-testid="uploads">uploads: ${uploads}</span>
      <span class="pill" data-testid="last-sync">last sync: ${last ? new Date(last).toLocaleTimeString() : 'never'}</span>
      ${error && online ? `<span class="pill error" data-testid="error">${esc(error.slice(0, 80))}</span>` : ''}`;
    if (statusEl.innerHTML !== html) statusEl.innerHTML = html;
    syncEl.innerHTML = `<p class="muted">Tenant <b>${esc(tenant)}</b>, user <b>${esc(user)}</b>. Changes are saved in this browser first; ${
      queue ? `${queue} waiting to sync.` : 'all synced.'
    }</p>`;
    const key = JSON.stringify(conflicts.map((c) => c.id));
    if (key !== shownKey) {
      shownKey = key;
      shownConflicts = conflicts;
      conflictsEl.innerHTML = conflicts.length
        ? conflicts
            .map(
              (c) => `<div class="conflict" data-testid="conflict">
                <div><b>${esc(c.entity)}</b> edited here and elsewhere at the same time</div>
                <div>here: <b>${esc(c.localData?.name)}</b></div>
                <div>server: <b>${esc(c.serverData?.name)}</b></div>
                <button type="button" data-conflict="${esc(c.id)}" data-choice="local">Keep mine</button>
                <button type="button" data-conflict="${esc(c.id)}" data-choice="server">Take server</button>
                <button type="button" data-conflict="${esc(c.id)}" data-choice="merge">Merge</button>
              </div>`,
            )
            .join('')
        : '<p class="muted">none</p>';
    }
  };
  const tick = (): void => {
    void refresh()
      .catch(() => {})
      .finally(() => setTimeout(tick, 300));
  };
  tick();
}

void main().catch((error: unknown) => {
  statusEl.innerHTML = `<span class="pill error" data-testid="fatal">${esc((error as Error)?.message ?? error)}</span>`;
  console.error(error);
});
