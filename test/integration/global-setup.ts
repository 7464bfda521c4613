// Once before the integration run: delete the indices earlier runs left in the local OpenSearch (its data outlives
// the run, and a machine can be handed to the next session as it was), so every run starts from an empty store as
// on a fresh machine. Tests that walk every unfinished task (GET /DANE/task) would otherwise pay for all that
// earlier runs left claimed, and their time would grow with the machine's age. Only this project's test indices
// (`dane-test-*`) are touched, never a developer's `npm start` data (`dane-index`).
export default async function deleteEarlierTestIndices() {
  const base = (process.env.OPENSEARCH_URL ?? 'http://127.0.0.1:9200').replace(/\/$/, '');
  const listing = await fetch(`${base}/_cat/indices/dane-test-*?format=json&h=index&expand_wildcards=all`);
  if (!listing.ok) throw new Error(`listing the test indices at ${base} answered ${listing.status}`);
  const names = ((await listing.json()) as Array<{ index: string }>).map((row) => row.index);
  // By name, in groups: a wildcard delete is refused where action.destructive_requires_name is on.
  for (let i = 0; i < names.length; i += 50) {
    const group = names.slice(i, i + 50).join(',');
    const response = await fetch(`${base}/${group}`, { method: 'DELETE' });
    if (!response.ok && response.status !== 404)
      throw new Error(
        `deleting test indices at ${base} answered ${response.status}: ${await response.text()}`,
      );
  }
}
