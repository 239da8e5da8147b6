import { defineConfig } from 'vitest/config';

// Two tiers. `unit`: pure tests on fixture config, no Docker engine, no nx CLI. `integration`:
// real nx runs (the README task graph is one), against the real engine, which they share on a
// 2-core machine (files one at a time).
const INTEGRATION = ['tools/image-chain/test/integration/**/*.test.ts', 'tools/docs/task-graph.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tools/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...INTEGRATION],
          // Run before the integration tier, not beside it: its files never compete with image builds for the cores.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          globalSetup: ['tools/image-chain/test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 15 * 60 * 1000,
          hookTimeout: 10 * 60 * 1000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
