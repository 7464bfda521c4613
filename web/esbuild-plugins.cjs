// esbuild plugins for serverless-esbuild (custom.esbuild.plugins in serverless.yml). `dane:web-assets` is the
// dashboard and the API reference, built when the `web` function is bundled: the page's TypeScript bundled for
// the browser, its stylesheet, and Swagger UI from the pinned swagger-ui-dist. Everything the pages load is in
// the function's own bundle, so they make no request outside their origin at run time.
const { build } = require('esbuild');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json', { paths: [root] }));

async function bundleScript(entry) {
  const result = await build({
    entryPoints: [path.join(root, 'web/src', entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    metafile: true,
    legalComments: 'none',
  });
  return { text: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 12);

function page(title, styles, scripts) {
  const links = styles.map((href) => `<link rel="stylesheet" href="${href}">`).join('\n  ');
  const tags = scripts.map(({ src, module }) => `<script ${module ? 'type="module" ' : ''}src="${src}"></script>`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <link rel="icon" href="data:,">
  ${links}
</head>
<body>
  <div id="app"></div>
  ${tags.join('\n  ')}
</body>
</html>
`;
}

/** Every file the two pages use, by the name it is served under (/DANE/assets/<name>). */
async function webAssets() {
  const manage = await bundleScript('main.ts');
  const docs = await bundleScript('docs.ts');
  const files = {
    'manage.js': { type: 'text/javascript; charset=utf-8', body: manage.text },
    'manage.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(root, 'web/src/style.css'), 'utf8') },
    'docs.js': { type: 'text/javascript; charset=utf-8', body: docs.text },
    'swagger-ui-bundle.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(path.join(swaggerDir, 'swagger-ui-bundle.js'), 'utf8').replace(
        /\n\/\/# sourceMappingURL=.*$/,
        '',
      ),
    },
    // The bundle's first line points to its licence notices: served beside it.
    'swagger-ui-bundle.js.LICENSE.txt': {
      type: 'text/plain; charset=utf-8',
      body: readFileSync(path.join(swaggerDir, 'swagger-ui-bundle.js.LICENSE.txt'), 'utf8'),
    },
    'swagger-ui.css': {
      type: 'text/css; charset=utf-8',
      body: readFileSync(path.join(swaggerDir, 'swagger-ui.css'), 'utf8').replace(/\/\*# sourceMappingURL=.*\*\/\s*$/, ''),
    },
  };
  // Content hashes in the URLs: the files may be cached for good, and a deploy still reaches every browser.
  const url = (name) => `/DANE/assets/${name}?v=${hash(files[name].body)}`;
  const html = 'text/html; charset=utf-8';
  files['manage.html'] = {
    type: html,
    body: page('DANE dashboard', [url('manage.css')], [{ src: url('manage.js'), module: true }]),
  };
  files['docs.html'] = {
    type: html,
    body: page('DANE API reference', [url('swagger-ui.css')], [
      // A classic script: it defines the global SwaggerUIBundle that docs.js starts.
      { src: url('swagger-ui-bundle.js'), module: false },
      { src: url('docs.js'), module: true },
    ]),
  };
  return { files, watch: [...manage.inputs, ...docs.inputs].map((input) => path.resolve(root, input)) };
}

const webAssetsPlugin = {
  name: 'dane-web-assets',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^dane:web-assets$/ }, () => ({ path: 'web-assets', namespace: 'dane-web' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'dane-web' }, async () => {
      const { files, watch } = await webAssets();
      return { contents: JSON.stringify(files), loader: 'json', watchFiles: watch };
    });
  },
};

module.exports = [webAssetsPlugin];
module.exports.webAssets = webAssets;
