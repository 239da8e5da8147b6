// The code that runs a target is an input of it: the runner, the loader, the executor and every
// module they import (found by reading their import statements), and the npm packages they
// import, by the versions the lock file gives. So a fix to an executor reruns exactly the
// targets that run it, and a cache hit never replays what older code did.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/** The plugin's folder, relative to the workspace root. */
export const PLUGIN_DIR = 'tools/image-chain';
/** Every task enters through these (see run.js and load.js); build.js decides what the bundles hold. */
const ENTRY_FILES = ['run.js', 'load.js', 'build.js'];
const RUNNER = 'src/run.ts';

// Value imports and re-exports (type-only ones are erased), side-effect imports and require().
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface CodeInputs {
  files: string[];
  externalDependencies: string[];
}

/** The npm package an import names ("zod/mini" → "zod", "@nx/devkit" → "@nx/devkit"); null for Node's own. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Relative and bare imports of one source text, type-only ones left out. */
export function importsOf(source: string): { relative: string[]; packages: string[] } {
  const relative: string[] = [];
  const packages: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    if (m[1]) continue;
    const specifier = m[2] ?? m[3] ?? m[4];
    if (specifier.startsWith('.')) relative.push(specifier);
    else {
      const pkg = packageOf(specifier);
      if (pkg) packages.push(pkg);
    }
  }
  return { relative, packages };
}

/**
 * The code inputs of targets running `executor` through run.js. `workspaceRoot` holds the
 * plugin at PLUGIN_DIR; `declared` are the npm packages package.json names (only those are
 * external nodes of the graph).
 */
export function codeInputs(workspaceRoot: string, executor: string, declared: ReadonlySet<string>): CodeInputs {
  const pluginRoot = join(workspaceRoot, PLUGIN_DIR);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { relative, packages: used } = importsOf(readFileSync(join(pluginRoot, file), 'utf8'));
    for (const pkg of used) if (declared.has(pkg)) packages.add(pkg);
    for (const spec of relative) visit(resolveSource(pluginRoot, file, spec));
  };
  visit(RUNNER);
  visit(`src/executors/${executor}.ts`);
  return {
    // executors/<name>.js: the entry when a project.json runs it as an Nx executor.
    files: [...ENTRY_FILES, `executors/${executor}.js`, ...[...seen].sort()].map((f) => `{workspaceRoot}/${PLUGIN_DIR}/${f}`),
    externalDependencies: [...packages].sort(),
  };
}

function resolveSource(pluginRoot: string, from: string, specifier: string): string {
  const path = normalize(join(dirname(from), specifier));
  const found = [`${path}.ts`, join(path, 'index.ts'), path].find((c) => statSync(join(pluginRoot, c), { throwIfNoEntry: false })?.isFile());
  if (found) return found;
  throw new Error(`${PLUGIN_DIR}/${from} imports "${specifier}", which is no file under ${PLUGIN_DIR}`);
}

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock'];

/**
 * The npm packages package.json declares (dependencies and devDependencies). Nx knows their
 * versions from the lock file; a workspace without one has none it can hash.
 */
export function declaredPackages(workspaceRoot: string): Set<string> {
  if (!LOCK_FILES.some((f) => statSync(join(workspaceRoot, f), { throwIfNoEntry: false }))) return new Set();
  try {
    const json = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return new Set([...Object.keys(json.dependencies ?? {}), ...Object.keys(json.devDependencies ?? {})]);
  } catch {
    return new Set();
  }
}
