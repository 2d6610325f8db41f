import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests, and integration tests that start the real
// server on port 0 and talk to it over real WebSockets (files named *.int.test.ts).
export default defineConfig({
  test: {
    // Finds or starts one Redis for the run and provides its URL (test/helpers/redis.ts).
    globalSetup: ['test/setup/redis-global.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
    ],
  },
});
