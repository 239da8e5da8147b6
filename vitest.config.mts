import { defineConfig } from 'vitest/config';

// Two tiers. `unit`: pure tests on fixture config, no Docker engine, no nx CLI. `integration`:
// real nx runs (the README task graph is one), against the real engine, which they share on a
// 2-core machine (files one at a time, projects one after another). The integration suites run
// on BuildKit with the engine's own image store; some run again on the classic builder, and on a
// second engine with the containerd image store (started by the global setup).
const INTEGRATION = ['tools/image-chain/test/integration/**/*.test.ts', 'tools/docs/task-graph.test.ts'];
const suites = (...names: string[]) => names.map((n) => `tools/image-chain/test/integration/${n}.test.ts`);

const integration = (name: string, include: string[], groupOrder: number, env: Record<string, string> = {}) => ({
  extends: true as const,
  test: {
    name,
    include,
    env,
    globalSetup: ['tools/image-chain/test/global-setup.ts'],
    setupFiles: ['tools/image-chain/test/setup-engine.ts'],
    fileParallelism: false,
    testTimeout: 15 * 60 * 1000,
    hookTimeout: 10 * 60 * 1000,
    sequence: { groupOrder },
  },
});

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
      integration('integration', INTEGRATION, 1),
      integration('integration-classic', suites('failure', 'restore', 'host-data'), 2, { IMAGE_CHAIN_TEST_BUILDER: 'classic' }),
      integration('integration-containerd', suites('restore', 'cache-key', 'failure', 'push', 'fresh-machine'), 3),
    ],
  },
});
