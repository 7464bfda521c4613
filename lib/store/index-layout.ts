/**
 * The DANE index layout (spec §2.1). Python workers create the index with exactly this mapping when it is
 * missing and read/write it directly, so neither side may change a field type; one shard is required because
 * workers route results by task id rather than by document id.
 */
export const DANE_INDEX_SHARDS = 1;

export const daneIndexMappings = {
  properties: {
    role: {
      type: 'join',
      relations: { document: 'task', task: 'result' },
    },
    created_at: { type: 'date', format: 'date_hour_minute_second' },
    updated_at: { type: 'date', format: 'date_hour_minute_second' },
    target: {
      properties: {
        id: { type: 'keyword' },
        url: { type: 'text' },
        type: { type: 'keyword' },
      },
    },
    creator: {
      properties: {
        id: { type: 'keyword' },
        type: { type: 'keyword' },
        name: { type: 'text' },
      },
    },
    task: {
      properties: {
        priority: { type: 'byte' },
        key: { type: 'keyword' },
        state: { type: 'short' },
        msg: { type: 'text' },
        args: { type: 'object' },
      },
    },
    result: {
      properties: {
        generator: {
          properties: {
            id: { type: 'keyword' },
            type: { type: 'keyword' },
            name: { type: 'keyword' },
            homepage: { type: 'text' },
          },
        },
        payload: { type: 'object' },
      },
    },
  },
} as const;

/**
 * Our own fields in the index, under the `dane` object (our bookkeeping in task sources, which the original and
 * the Python workers never write). Created with the index, and put into an existing one (created by a worker, the
 * original or an older version of ours) at bootstrap: left to dynamic mapping, a string becomes `text`, which
 * cannot be aggregated, and a field's type cannot change once mapped.
 */
export const daneBookkeepingMappings = {
  properties: { dane: { properties: { creator: { type: 'keyword' } } } },
} as const;

/** The field of `daneBookkeepingMappings` that bootstrap checks for. */
export const BOOKKEEPING_FIELD = 'dane.creator';

export function daneIndexSettings(replicas: number) {
  return { number_of_shards: DANE_INDEX_SHARDS, number_of_replicas: replicas };
}
