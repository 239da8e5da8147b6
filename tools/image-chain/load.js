// Nx loads the plugin and every executor through here. Each Nx process (the CLI, and one fork
// per executor) would otherwise transpile the TypeScript sources on load, about half a second
// each; `npm run build:tools` compiles them into dist/ once. dist/ is used only while it was
// compiled from exactly the sources on disk (a digest of their contents, so copies and
// checkouts cannot fool it); otherwise the sources are loaded as before: slower, never stale.
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
  for (const file of [join(__dirname, 'index.ts'), ...sourceFiles()].sort()) {
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

/** Run after compiling: records which sources dist/ was compiled from. */
function stamp() {
  writeFileSync(STAMP, `${sourcesDigest()}\n`);
}

module.exports = { load, stamp, sourcesDigest };
