import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// DESIGN principle 10: layers point one way. The domain (lib/tasks, lib/documents) and the ports (lib/store,
// lib/broker, lib/model) never import the HTTP adapter; domain errors are mapped to HTTP in lib/http only.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LOWER_LAYERS = ['lib/store', 'lib/broker', 'lib/tasks', 'lib/documents', 'lib/model'];

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module a file imports, as a path relative to the repository (static and dynamic imports, re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? '',
  );
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative(root, resolve(root, dirname(file), s))
        .split('\\')
        .join('/'),
    );
}

describe('layers', () => {
  const files = LOWER_LAYERS.flatMap(tsFiles);

  it('finds the modules it checks', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(importsOf('lib/http/errors.ts')).toContain('lib/errors.ts');
  });

  it.each(LOWER_LAYERS)('no module of %s imports lib/http', (layer) => {
    const offending = files
      .filter((file) => file.startsWith(layer))
      .flatMap((file) =>
        importsOf(file)
          .filter((target) => target.startsWith('lib/http'))
          .map((t) => `${file} -> ${t}`),
      );
    expect(offending).toEqual([]);
  });
});
