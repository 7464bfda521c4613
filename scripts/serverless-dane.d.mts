// Types of the osls plugin's pure checks, for the tests (the plugin itself is plain JavaScript: osls loads it).
export const OFFLINE_WORK_FOLDER: string;
export function localValuePaths(value: unknown, path: string): string[];
export function longestLeaseMs(environment: Record<string, unknown>): number;
export function deploymentProblems(
  param: (name: string) => unknown,
  service: { provider?: { environment?: Record<string, unknown>; iam?: unknown }; resources?: unknown },
): string[];
export default class DanePlugin {
  constructor(serverless: unknown, options: Record<string, unknown>);
}
