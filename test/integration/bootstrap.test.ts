import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { daneBookkeepingMappings, daneIndexMappings } from '../../lib/store/index-layout.ts';

const client = getStoreClient();
const created: string[] = [];
const freshIndex = () => {
  const name = `dane-bootstrap-${randomUUID().slice(0, 8)}`;
  created.push(name);
  return name;
};

afterAll(async () => {
  await client.indices.delete({ index: created.join(','), ignore_unavailable: true });
});

describe('index bootstrap (real OpenSearch)', () => {
  it('creates the DANE index with the original mapping, our bookkeeping field and one shard', async () => {
    const index = freshIndex();
    expect(await bootstrapIndex(client, index, 0)).toBe('created');

    const mapping = await client.indices.getMapping({ index });
    const properties = mapping.body[index]?.mappings.properties as Record<string, unknown>;
    expect(properties.role).toEqual({
      type: 'join',
      eager_global_ordinals: true,
      relations: { document: 'task', task: 'result' },
    });
    expect(properties).toMatchObject(daneIndexMappings.properties);
    expect(Object.keys(properties).sort()).toEqual(
      ['created_at', 'creator', 'dane', 'result', 'role', 'target', 'task', 'updated_at'].sort(),
    );
    expect(properties.dane).toEqual(daneBookkeepingMappings.properties.dane);

    const settings = await client.indices.getSettings({ index });
    expect(settings.body[index]?.settings?.index?.number_of_shards).toBe('1');
  });

  it('lets documents, tasks and results be linked by the join field', async () => {
    const index = freshIndex();
    await bootstrapIndex(client, index, 0);
    await client.index({ index, id: 'doc1', body: { role: 'document', target: { id: 'T' } }, refresh: true });
    await client.index({
      index,
      id: 'task1',
      routing: 'doc1',
      body: { role: { name: 'task', parent: 'doc1' }, task: { key: 'ASR', state: 201 } },
      refresh: true,
    });
    const children = await client.search({
      index,
      body: { query: { has_parent: { parent_type: 'document', query: { ids: { values: ['doc1'] } } } } },
    });
    expect(children.body.hits.hits.map((hit) => hit._id)).toEqual(['task1']);
  });

  it('leaves an existing index, its mapping and its data as they are, adding only our bookkeeping field', async () => {
    const index = freshIndex();
    await client.indices.create({
      index,
      body: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { x: { type: 'keyword' } } },
      },
    });
    await client.index({ index, id: 'keep', body: { x: 'data' }, refresh: true });

    expect(await bootstrapIndex(client, index, 0)).toBe('exists');

    const mapping = await client.indices.getMapping({ index });
    expect(mapping.body[index]?.mappings.properties).toEqual({
      x: { type: 'keyword' },
      ...daneBookkeepingMappings.properties,
    });
    const kept = await client.get({ index, id: 'keep' });
    expect(kept.body._source).toEqual({ x: 'data' });
    expect(await bootstrapIndex(client, index, 0)).toBe('exists');
  });

  it("adds the field to an index of the original's mapping whose bookkeeping an older version of ours wrote", async () => {
    const index = freshIndex();
    await client.indices.create({
      index,
      body: { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: daneIndexMappings },
    });
    // Our bookkeeping before tasks carried their creator, mapped dynamically.
    await client.index({
      index,
      id: 'task1',
      routing: 'doc1',
      body: {
        role: { name: 'task', parent: 'doc1' },
        task: { key: 'ASR', state: 201 },
        dane: { attempt: 0 },
      },
      refresh: true,
    });

    expect(await bootstrapIndex(client, index, 0)).toBe('exists');

    const mapping = await client.indices.getMapping({ index });
    const properties = mapping.body[index]?.mappings.properties as Record<string, unknown>;
    expect(properties).toMatchObject(daneIndexMappings.properties);
    expect(properties.dane).toEqual({
      properties: { attempt: { type: 'long' }, creator: { type: 'keyword' } },
    });
  });

  it('reports "exists" to every racer when several create the index at once', async () => {
    const index = freshIndex();
    const outcomes = await Promise.all([1, 2, 3].map(() => bootstrapIndex(client, index, 0)));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exists')).toHaveLength(2);
    const mapping = await client.indices.getMapping({ index });
    expect(mapping.body[index]?.mappings.properties?.dane).toEqual(daneBookkeepingMappings.properties.dane);
  });
});
