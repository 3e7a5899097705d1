import { defineConfig } from 'vitest/config';

// Two projects: unit tests run without a broker; integration tests share one real
// Kafka cluster started by the global setup once per run.
export default defineConfig({
  test: {
    // Integration files share one broker cluster; running them one at a time keeps the 2-core
    // machine from starving the brokers.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Several unit tests start the CLI or work through 200,000 entries: on 2 shared cores
          // with the integration cluster running beside them, 5 s is not enough.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/hostile/**/*.test.ts'],
          globalSetup: ['test/integration/install-clients.ts', 'test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
