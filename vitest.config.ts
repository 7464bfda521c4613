import { defineConfig } from 'vitest/config';

// Integration tests share one OpenSearch and one RabbitMQ, so their files run one at a time. They share the index
// of test/integration/setup.ts unless a file names its own; test/integration/global-setup.ts deletes what earlier
// runs left, so that a failed or old run leaves nothing that breaks or slows the next.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/browser/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/integration/setup.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
