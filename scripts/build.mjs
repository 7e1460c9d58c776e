#!/usr/bin/env node
/**
 * Builds the deployable app: `src/index.ts` and everything it imports, dependencies included, bundled by
 * esbuild into `dist/` (ES modules, split into chunks at dynamic imports), so the deployed package is a
 * few files and needs no `node_modules`. `package.json`'s `main` is `dist/index.js`.
 *
 * Only `@azure/functions-core` stays outside the bundle: the Functions Node.js worker provides that module
 * itself to `require` (and `local/host/capture.ts` provides it the same way). The dependencies are CommonJS
 * packages calling `require`, which an ES module lacks: every chunk starts with one made by
 * `createRequire`, through which they reach Node's built-in modules and the worker's core module.
 *
 * Usage: `npm run build` (what `azd deploy` runs before packaging); `--metafile <file>` also writes
 * esbuild's account of what went into each output file.
 */
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = fileURLToPath(new URL('../dist', import.meta.url));
const args = process.argv.slice(2);
const metafileAt = args.indexOf('--metafile');

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@azure/functions-core'],
  banner: {
    js: "import { createRequire as __milinkCreateRequire } from 'node:module'; const require = __milinkCreateRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
});

// esbuild warns of what it could not bundle (a `require` of a computed name, a missing file): code the
// deployed app would fail to load, so a warning fails the build.
if (result.warnings.length > 0) {
  console.error(`build: ${result.warnings.length} warning(s) above; the bundle may not load`);
  process.exit(1);
}
if (metafileAt >= 0) {
  const file = args[metafileAt + 1];
  if (!file) throw new Error('--metafile needs a file name');
  await writeFile(file, JSON.stringify(result.metafile));
}
const outputs = Object.entries(result.metafile.outputs);
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`build: ${outputs.length} files, ${(bytes / 1048576).toFixed(1)} MB in dist/`);
