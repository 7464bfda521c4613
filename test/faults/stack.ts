import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Start and stop the fault suite's own services (scripts/test-faults.sh points the localstack scripts at a
 * second RabbitMQ node and a second OpenSearch node, so a developer's `npm start` stack is never touched).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

export type Service = 'rabbitmq' | 'opensearch';

export async function service(name: Service, action: 'start' | 'stop'): Promise<void> {
  await run('bash', [resolve(root, `localstack/${name}.sh`), action], {
    env: process.env,
    timeout: 240_000,
  });
}

/**
 * Stops a service, calls `whileDown` once it is stopped (its port closed), waits `downMs` while the rest of the
 * system runs on without it, then starts it again.
 */
export async function outage(
  name: Service,
  downMs: number,
  whileDown: () => void = () => undefined,
): Promise<{ restoredAt: number }> {
  await service(name, 'stop');
  whileDown();
  await new Promise((resolveWait) => setTimeout(resolveWait, downMs));
  await service(name, 'start');
  return { restoredAt: Date.now() };
}
