import { httpHandler } from '../../lib/http/handler.ts';
import { pagedArray, pageParams } from '../../lib/http/paging.ts';
import { tasksOfCreator } from '../../lib/tasks/queries.ts';

export const handler = httpHandler(async (request) => {
  const page = pageParams(request);
  const { creator_id = '', task_key = '' } = request.pathParameters;
  return pagedArray(request, page, await tasksOfCreator(creator_id, task_key, page));
});
