// `npm run build:tools`: bundles the plugin, each executor and the command runner into dist/,
// one file each with its dependencies inside, then stamps dist/ with the digest of the sources it
// came from (see load.js). Every nx command loads the plugin and every task loads one of these;
// one bundle loads much faster than the same code spread over a few hundred modules.
'use strict';
const { rmSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');
const { stamp } = require('./load');

const executors = readdirSync(join(__dirname, 'src/executors'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'common.ts')
  .map((f) => `src/executors/${f.slice(0, -3)}`);
const entries = ['index', 'src/run', ...executors];

rmSync(join(__dirname, 'dist'), { recursive: true, force: true });
esbuild.buildSync({
  absWorkingDir: __dirname,
  entryPoints: Object.fromEntries(entries.map((e) => [e, `./${e}.ts`])),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // Nx itself stays outside: the plugin uses its types only, the runner reads Nx's cached graph.
  external: ['nx', '@nx/devkit'],
  // execa's ESM code asks import.meta.url for its own location; in a CommonJS bundle that is the bundle's.
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
  logLevel: 'warning',
});
stamp();
