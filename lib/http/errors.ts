/**
 * The one error family of the API. Every error a client can cause, or an outage it should know about, is one of
 * these; `lib/http/middleware.ts` maps them to responses by class. Anything else is a bug and becomes a 500
 * without internals.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(message: string, details?: unknown) {
    super(400, message, details);
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  constructor(message: string) {
    super(405, message);
  }
}

export class ConflictError extends HttpError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(409, message);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError';
  constructor(message: string) {
    super(415, message);
  }
}

/** A dependency (OpenSearch, RabbitMQ) cannot be reached: the client may try again later. */
export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(
    readonly dependency: 'database' | 'messagequeue',
    message: string,
    override readonly cause?: unknown,
  ) {
    super(503, message);
  }
}
