import swc from 'unplugin-swc';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Decorators (NestJS, WatermelonDB) need legacy decorators, decorator metadata
// and no define-semantics for class fields: see BUILD-NOTES.md.
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
    }),
  ],
  oxc: false,
  // Inside this repository `trackhub-gen/runtime/*` resolves to the TypeScript
  // sources (the package's `trackhub-source` export condition), so tests and the
  // generated example share one copy of the runtime; users get dist/.
  // (Vitest's own default is Vite's server conditions without 'module'.)
  ssr: { resolve: { conditions: ['trackhub-source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The example verifier accepts dev:<tenant>:<user> tokens, which a server refuses
    // unless enabled (child processes the tests start inherit it).
    env: { TRACKHUB_ALLOW_DEV_TOKENS: '1' },
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: '.cache/vitest-report.json' }]],
  },
});
