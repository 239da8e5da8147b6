// Nx loads the plugin, the command runner and every executor through here. Each process (the
// nx CLI, and each task's) would otherwise transpile the TypeScript sources on load, about half a
// second, and then load a few hundred modules; `npm run build:tools` bundles them into dist/
// once. dist/ is used only while it was built from exactly the sources on disk (a digest of their
// contents, so copies and checkouts cannot fool it); otherwise the sources are loaded as before:
// slower, never stale.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const DIST = join(__dirname, 'dist');
const STAMP = join(DIST, 'sources.sha256');

function sourceFiles(dir = join(__dirname, 'src')) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

function sourcesDigest() {
  const hash = createHash('sha256');
  for (const file of [join(__dirname, 'index.ts'), join(__dirname, 'build.js'), ...sourceFiles()].sort()) {
    hash.update(relative(__dirname, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

let compiledIsCurrent;
function useCompiled() {
  if (compiledIsCurrent === undefined) {
    compiledIsCurrent = existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === sourcesDigest();
  }
  return compiledIsCurrent;
}

/** Loads `index` or `src/...` (no extension): compiled when current, else from the sources. */
function load(modulePath) {
  if (useCompiled()) return require(join(DIST, `${modulePath}.js`));
  require('@swc-node/register');
  return require(join(__dirname, `${modulePath}.ts`));
}

/** Run after bundling: records which sources dist/ was built from. */
function stamp() {
  writeFileSync(STAMP, `${sourcesDigest()}\n`);
}

module.exports = { load, stamp, sourcesDigest };
