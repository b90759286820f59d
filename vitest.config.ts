import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end tests start real processes on loopback; two cores cannot run many at once.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
