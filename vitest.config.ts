import { defineConfig } from 'vitest/config';

// Integration tests share one OpenSearch and one RabbitMQ, so their files run one at a time; each file uses its
// own index name (see test/integration/setup.ts) so a failed run leaves nothing that breaks the next.
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
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
