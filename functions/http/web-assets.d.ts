/** Built by web/esbuild-plugins.cjs when the `web` function is bundled. */
declare module 'dane:web-assets' {
  const files: Record<string, { type: string; body: string }>;
  export default files;
}
