// Nx loads the plugin, the command runner and every executor through here. Each process (the
// nx CLI, and each task's) would otherwise transpile the TypeScript sources on load, the largest
// cost of its start, and then load a few hundred modules; `npm run build:tools` bundles them into
// dist/ once. dist/ is used only while it was built from exactly the sources on disk (a digest
// of their contents, so copies and checkouts cannot fool it); otherwise the sources are loaded as
// before: slower, never stale.
//
// A bundle is also compiled from V8's code cache where one was kept beside it (<bundle>.v8cache,
// written by the first process that loads it): compiling its source is most of a bundle's load
// time, paid at every task's start. V8 refuses a cache made by another version or with
// other flags; the bundle is then compiled from source and its cache written anew.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join, relative } = require('node:path');
const { Script } = require('node:vm');

// The floor of package.json's engines. Older Nodes fail later and obscurely (vitest, execa and
// require() of ES modules need it), so the plugin and every task say so first.
const NODE_FLOOR = [22, 12, 0];

function checkNode(version = process.versions.node) {
  const have = version.split('.').map(Number);
  const i = NODE_FLOOR.findIndex((n, k) => have[k] !== n);
  if (i >= 0 && have[i] < NODE_FLOOR[i]) {
    throw new Error(
      `Node ${version} (${process.execPath}) is older than this workspace's floor, ${NODE_FLOOR.join('.')} (package.json "engines"). ` +
        'Run nx as ./nx (it uses the Node that `bash tools/setup.sh` installs in .node/ where the host\'s is older), or other commands through tools/node/env.sh.',
    );
  }
}

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
  checkNode();
  if (useCompiled()) return requireBundle(join(DIST, `${modulePath}.js`));
  require('@swc-node/register');
  return require(join(__dirname, `${modulePath}.ts`));
}

/**
 * Runs a CommonJS bundle as require would, compiled from its code cache where that fits. V8
 * matches a cache to its source by length only, so the cache file starts with the digest of the
 * source it was made from, and one made from any other source is not used.
 */
function requireBundle(file) {
  const cacheFile = `${file}.v8cache`;
  const source = readFileSync(file, 'utf8');
  const digest = createHash('sha256').update(source).digest();
  let cachedData;
  try {
    const kept = readFileSync(cacheFile);
    if (kept.subarray(0, digest.length).equals(digest)) cachedData = kept.subarray(digest.length);
  } catch {
    // none kept yet
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    // Written at exit: the cache then also holds the functions this process compiled as it ran.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only checkout: compiled from source next time too
      }
    });
  }
  return mod.exports;
}

/** Run after bundling: records which sources dist/ was built from. */
function stamp() {
  writeFileSync(STAMP, `${sourcesDigest()}\n`);
}

module.exports = { load, stamp, sourcesDigest, requireBundle, checkNode, NODE_FLOOR };
