// Builds the self-hosted GraphiQL bundle into ./dist with esbuild.
//
//   dist/graphiql-<hash>.js / .css   page entry point (ES module) and its stylesheet
//   dist/chunk-<hash>.js              lazily imported chunks (Monaco, Prettier, ...)
//   dist/*.worker-<hash>.js           Monaco web workers (classic scripts)
//   dist/manifest.json                the entry files and the complete list of files;
//                                     the Python app serves exactly these files
//
// Every file name carries a content hash, so the app can serve them as immutable.
// The build goes to a temporary directory that replaces dist/ at the end, so a
// running server never sees a half-written build.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, 'dist');
const tmpdir = path.join(here, '.dist-tmp');
const olddir = path.join(here, '.dist-old');

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ['es2022'],
  platform: 'browser',
  legalComments: 'eof',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  absWorkingDir: here,
  outdir: tmpdir,
};

const noCdnPlugin = {
  name: 'portal-no-cdn',
  setup(build) {
    // graphiql/style.css already contains Monaco's CSS (with its icon font inlined);
    // Monaco's own per-widget CSS imports would only duplicate it, and esbuild would
    // put the ones reached through dynamic import() into stylesheets nobody loads.
    build.onResolve({ filter: /\.css$/ }, (args) =>
      /[\\/]node_modules[\\/]monaco-editor[\\/]/.test(args.resolveDir)
        ? { path: args.path, namespace: 'portal-empty' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'portal-empty' }, () => ({
      contents: '',
      loader: 'js',
    }));
  },
};

/** An esbuild output path (relative to this directory) as a name inside dist/. */
const relative = (file) => path.relative(tmpdir, path.resolve(here, file)).split(path.sep).join('/');

const outputNames = (metafile) => Object.keys(metafile.outputs).map(relative);

function outputFor(metafile, entryPoint) {
  for (const [file, meta] of Object.entries(metafile.outputs)) {
    if (meta.entryPoint === entryPoint) {
      return { js: file, css: meta.cssBundle };
    }
  }
  throw new Error(`no output for entry point ${entryPoint}`);
}

async function main() {
  const started = Date.now();
  await rm(tmpdir, { recursive: true, force: true });

  // 1. Monaco workers: self-contained classic scripts (no module workers needed).
  const workerEntries = {
    editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
    json: 'monaco-editor/esm/vs/language/json/json.worker.js',
    graphql: 'monaco-graphql/esm/graphql.worker.js',
  };
  const workers = await esbuild.build({
    ...common,
    entryPoints: Object.entries(workerEntries).map(([name, input]) => ({
      in: input,
      out: `${name}.worker`,
    })),
    entryNames: '[name]-[hash]',
    format: 'iife',
    plugins: [noCdnPlugin],
  });
  const workerFiles = {};
  for (const [file, meta] of Object.entries(workers.metafile.outputs)) {
    const name = relative(file);
    const label = Object.keys(workerEntries).find((key) => name.startsWith(`${key}.worker-`));
    if (label === undefined || !meta.entryPoint) {
      throw new Error(`unexpected worker output ${name}`);
    }
    workerFiles[label] = name;
  }

  // 2. The page: an ES module with code splitting (Monaco and Prettier load lazily).
  const entryPoint = 'graphiql-app.js';
  const app = await esbuild.build({
    ...common,
    entryPoints: [{ in: entryPoint, out: 'graphiql' }],
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    format: 'esm',
    splitting: true,
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
    define: {
      ...common.define,
      __EDITOR_WORKER__: JSON.stringify(workerFiles.editor),
      __JSON_WORKER__: JSON.stringify(workerFiles.json),
      __GRAPHQL_WORKER__: JSON.stringify(workerFiles.graphql),
    },
    plugins: [noCdnPlugin],
  });
  const entry = outputFor(app.metafile, entryPoint);
  if (!entry.css) {
    throw new Error('the GraphiQL entry point produced no stylesheet');
  }

  const files = [...outputNames(workers.metafile), ...outputNames(app.metafile)].sort();
  const graphiqlPackage = JSON.parse(
    await readFile(path.join(here, 'node_modules', 'graphiql', 'package.json'), 'utf8'),
  );
  const manifest = {
    version: 1,
    graphiql: graphiqlPackage.version,
    entry: { script: relative(entry.js), stylesheet: relative(entry.css) },
    files,
  };
  await writeFile(path.join(tmpdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  // 3. Replace dist/ as a whole.
  await rm(olddir, { recursive: true, force: true });
  await rename(outdir, olddir).catch((error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(tmpdir, outdir);
  await rm(olddir, { recursive: true, force: true });

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`GraphiQL ${manifest.graphiql}: ${files.length} files in dist/ (${seconds}s)`);
}

main().catch(async (error) => {
  await rm(tmpdir, { recursive: true, force: true });
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
