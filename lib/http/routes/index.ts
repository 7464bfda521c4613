import { documentRoutes } from './documents.ts';
import { keyRoutes } from './keys.ts';
import { manageRoutes } from './manage.ts';
import { opsRoutes } from './ops.ts';
import { taskRoutes } from './tasks.ts';
import type { RouteSpec } from './types.ts';
import { workerRoutes } from './workers.ts';

/**
 * Every HTTP route of the service. A unit test holds this list and the httpApi events of serverless.yml to be
 * the same set, and the OpenAPI document is generated from it.
 */
export const routes: readonly RouteSpec[] = [
  ...opsRoutes,
  ...documentRoutes,
  ...taskRoutes,
  ...workerRoutes,
  ...keyRoutes,
  ...manageRoutes,
];
