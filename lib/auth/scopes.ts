import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';

/**
 * What a credential may do. `admin` implies `write` implies `read`: whoever may mass-reset may also register a
 * document, and whoever may register one may read it back. `worker` stands apart and implies nothing, nor is it
 * implied: worker machines hold their key in plain configuration files, so it opens only the worker gateway,
 * and an operator's admin key is no worker key (least privilege both ways).
 */
export const SCOPES = ['read', 'write', 'admin', 'worker'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = z.enum(SCOPES);

const implied: Record<Scope, readonly Scope[]> = {
  read: ['read'],
  write: ['write', 'read'],
  admin: ['admin', 'write', 'read'],
  worker: ['worker'],
};

/** Every scope the held ones grant, implied ones included, in the order of SCOPES. */
export function effectiveScopes(held: readonly Scope[]): Scope[] {
  const granted = new Set(held.flatMap((scope) => implied[scope]));
  return SCOPES.filter((scope) => granted.has(scope));
}

export function grants(held: readonly Scope[], required: Scope): boolean {
  return held.some((scope) => implied[scope].includes(required));
}

export class InvalidScopeError extends InvalidInputError {
  override name = 'InvalidScopeError';
}

/** `read,write` → `['read', 'write']`; unknown, empty or repeated names are errors that name the culprit. */
export function parseScopeList(text: string): Scope[] {
  const names = text.split(',').map((part) => part.trim());
  if (names.length === 0 || names.every((name) => name === '')) {
    throw new InvalidScopeError(`No scope given; choose from ${SCOPES.join(', ')}`);
  }
  const scopes: Scope[] = [];
  for (const name of names) {
    const parsed = ScopeSchema.safeParse(name.toLowerCase());
    if (!parsed.success) {
      throw new InvalidScopeError(
        name === ''
          ? 'Empty scope name in the list'
          : `Unknown scope "${name}"; choose from ${SCOPES.join(', ')}`,
      );
    }
    if (!scopes.includes(parsed.data)) scopes.push(parsed.data);
  }
  return scopes;
}
