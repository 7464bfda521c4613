import { describe, expect, it } from 'vitest';
import { classifyItemError } from '../../lib/store/items.ts';

// Per-item errors of _bulk (with a status) and _mget (type only): a transient one must never read as "not found".
describe('per-item errors', () => {
  it.each<[number | undefined, string | undefined, string]>([
    [404, 'document_missing_exception', 'missing'],
    [undefined, 'index_not_found_exception', 'missing'],
    [429, 'es_rejected_execution_exception', 'transient'],
    [503, 'unavailable_shards_exception', 'transient'],
    [undefined, 'no_shard_available_action_exception', 'transient'],
    [undefined, 'some_new_exception', 'transient'],
    [400, 'mapper_parsing_exception', 'permanent'],
    [undefined, 'routing_missing_exception', 'permanent'],
  ])('status %s, %s: %s', (status, type, kind) => {
    expect(classifyItemError(status, type === undefined ? undefined : { type })).toBe(kind);
  });
});
