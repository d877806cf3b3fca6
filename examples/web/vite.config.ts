/**
 * The web demo: the generated client (generated-example/client) on WatermelonDB's
 * LokiJS adapter in IndexedDB. `/graphql` and `/uploads` are proxied to the example
 * server (TRACKHUB_API, default http://127.0.0.1:4000), so the page and the API share
 * one origin (photos included: the proxy keeps the Host header). Inside this repository `trackhub-gen/runtime/*` is the TypeScript source;
 * in your own app it is the installed package and needs no alias.
 */
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const api = process.env.TRACKHUB_API ?? 'http://127.0.0.1:4000';
/** Keeps the page's Host header, so the media URLs the server hands out point at this origin too. */
export const apiProxy = (target: string) => ({
  '/graphql': { target, changeOrigin: false },
  '/uploads': { target, changeOrigin: false },
});

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: {
    alias: [
      { find: /^trackhub-gen\/runtime\/client\/web$/, replacement: `${repo}src/runtime/client/web.ts` },
      { find: /^trackhub-gen\/runtime\/client$/, replacement: `${repo}src/runtime/client/index.ts` },
    ],
  },
  // WatermelonDB models use legacy decorators and must not get define-semantics class fields.
  oxc: {
    decorator: { legacy: true },
    assumptions: { setPublicClassFields: true },
    typescript: { removeClassFieldsWithoutInitializer: true },
  },
  build: {
    outDir: `${repo}.cache/web-demo`,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // The demo, and the page `npm run bench:web` measures.
    rollupOptions: { input: { index: `${repo}examples/web/index.html`, bench: `${repo}examples/web/bench.html` } },
  },
  server: { proxy: apiProxy(api) },
  preview: { proxy: apiProxy(api) },
  logLevel: 'warn',
});
