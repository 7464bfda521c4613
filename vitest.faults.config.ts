import { defineConfig } from 'vitest/config';

// The fault suite (`npm run test:faults`), apart from `npm test`: it stops and starts services, and takes minutes.
// scripts/test-faults.sh gives it a RabbitMQ node and an OpenSearch node of its own.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/integration/setup.ts'],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
