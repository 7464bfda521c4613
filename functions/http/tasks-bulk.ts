import type { z } from 'zod';
import { parseInput } from '../../lib/errors.ts';
import { httpHandler, json } from '../../lib/http/handler.ts';
import { parsePath } from '../../lib/http/request.ts';
import { BulkBodySchema, type BulkResultSchema, tasksBulk } from '../../lib/http/routes/manage.ts';
import { encodeCursor } from '../../lib/store/paging.ts';
import { bulkAction } from '../../lib/tasks/bulk.ts';

/** POST /DANE/tasks/{retry|forceretry|reset|delete}: one action on every task a filter selects. */
export const handler = httpHandler(async (request) => {
  const { action } = parsePath(tasksBulk, request);
  const { dry_run, cursor, state, ...filter } = parseInput(BulkBodySchema, request.body ?? {});
  const result = await bulkAction(action, { ...filter, states: state }, { dryRun: dry_run, cursor });
  const body: z.output<typeof BulkResultSchema> = {
    ...result,
    next: result.next ? encodeCursor(result.next) : null,
  };
  return json(200, body);
});
