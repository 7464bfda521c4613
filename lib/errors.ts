import type { z } from 'zod';

/**
 * The domain error family. `lib/store`, `lib/broker`, `lib/tasks`, `lib/documents` and `lib/model` throw these and
 * never an HTTP error; `lib/http/errors.ts` maps them to responses by class, in one place. Anything else that
 * escapes a handler is a bug of ours and becomes a logged 500, a `ZodError` included.
 */
export class DomainError extends Error {
  override name = 'DomainError';
}

/** The thing asked for does not exist. */
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
}

/** The request contradicts what is stored (a second document or task with the same id). */
export class ConflictError extends DomainError {
  override name = 'ConflictError';
}

export interface InputIssue {
  path: string;
  message: string;
}

/** The caller's input is wrong; `issues` name every field at fault. */
export class InvalidInputError extends DomainError {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    readonly issues: InputIssue[] = [],
  ) {
    super(message);
  }

  /** `Invalid <field>: <problem>` for the first issue of a validation of the caller's input. */
  static fromZod(error: z.ZodError): InvalidInputError {
    return new InvalidInputError(
      zodMessage(error),
      error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }

  /** One issue at `path` (`[]`: the whole body). */
  static at(path: PropertyKey[], message: string): InvalidInputError {
    const where = path.length > 0 ? path.join('.') : 'body';
    return new InvalidInputError(`Invalid ${where}: ${message}`, [{ path: path.join('.'), message }]);
  }
}

export type Dependency = 'database' | 'messagequeue';

/** OpenSearch or RabbitMQ cannot be reached: the caller may try again later. */
export class DependencyUnavailableError extends DomainError {
  override name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: Dependency,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** `Invalid <field>: <problem>` for the first issue: every 400 names the field at fault. */
function zodMessage(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'Invalid request';
  const where = first.path.length > 0 ? first.path.join('.') : 'body';
  return `Invalid ${where}: ${first.message}`;
}

/**
 * Validates the caller's input. The only place where a `ZodError` becomes a client error: one thrown anywhere
 * else (our own data failing our own schema) stays a bug.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw InvalidInputError.fromZod(parsed.error);
  return parsed.data;
}
