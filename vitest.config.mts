import { defineConfig } from 'vitest/config';

// Integration tests share one Docker engine on a 2-core machine: run files one at a time.
export default defineConfig({
  test: {
    include: ['tools/**/*.test.ts', 'bench/**/*.test.ts', 'docs/**/*.test.ts'],
    globalSetup: ['tools/image-chain/test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 15 * 60 * 1000,
    hookTimeout: 10 * 60 * 1000,
    pool: 'forks',
    reporters: ['default'],
  },
});
