import { httpHandler, json } from '../../lib/http/handler.ts';

/**
 * Placeholder of the worker gateway (built in its own change): declared here so that the deployment, its IAM and
 * its function URL can be packaged and linted. Answers 501 until the real gateway replaces this file.
 */
export const handler = httpHandler(() =>
  json(501, { message: 'The worker gateway is not part of this build' }),
);
