import { ConflictError, DependencyUnavailableError, InvalidInputError, NotFoundError } from '../errors.ts';
import { logger } from '../log.ts';

/**
 * Domain errors to HTTP responses, by class, in this one place. 5xx bodies never carry internals; the log has
 * them with the request id.
 */

/** A request body over HTTP_MAX_BODY_BYTES: refused before it is parsed. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** A state-changing GET alias while HTTP_GET_ALIASES=false. */
export class MethodNotAllowedError extends Error {
  override name = 'MethodNotAllowedError';
  constructor(
    message: string,
    readonly allow: string,
  ) {
    super(message);
  }
}

export interface ErrorResponse {
  statusCode: number;
  body: { message: string; [key: string]: unknown };
  headers?: Record<string, string>;
}

export function errorToResponse(error: unknown, requestId: string): ErrorResponse {
  if (error instanceof InvalidInputError) {
    return {
      statusCode: 400,
      body: { message: error.message, ...(error.issues.length > 0 ? { errors: error.issues } : {}) },
    };
  }
  if (error instanceof PayloadTooLargeError) return { statusCode: 413, body: { message: error.message } };
  if (error instanceof MethodNotAllowedError) {
    return { statusCode: 405, body: { message: error.message }, headers: { allow: error.allow } };
  }
  if (error instanceof NotFoundError) return { statusCode: 404, body: { message: error.message } };
  if (error instanceof ConflictError) return { statusCode: 409, body: { message: error.message } };
  if (error instanceof DependencyUnavailableError) {
    return {
      statusCode: 503,
      body: { message: error.message, dependency: error.dependency, requestId },
      headers: { 'retry-after': '5' },
    };
  }
  // A ZodError lands here too: the caller's input is validated with parseInput, so this one is ours.
  logger.error('Unhandled error', { error });
  return { statusCode: 500, body: { message: 'Internal server error', requestId } };
}
