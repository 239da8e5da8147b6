import { buildSync } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../test/fixture-workspace';
import { codeInputs, declaredPackages, importsOf, packageOf, PLUGIN_DIR } from './code-inputs';
import { EXECUTOR_OPTIONS, type ExecutorName } from './options';

const CODE = `{workspaceRoot}/${PLUGIN_DIR}`;
const EXECUTORS = Object.keys(EXECUTOR_OPTIONS) as ExecutorName[];

describe('importsOf', () => {
  it('sees value imports, re-exports, side-effect imports and require(), and skips type-only ones', () => {
    const source = [
      "import type { ExecutorContext } from '@nx/devkit';",
      "import { readFileSync } from 'node:fs';",
      "import * as z from 'zod/mini';",
      "import './zod-messages';",
      "import {\n  a,\n  type B,\n} from './multi-line';",
      "export { x } from '../reexported';",
      "export type { Y } from './types-only';",
      "export * from './everything';",
      "const { workspaceDataDirectory } = require('nx/src/utils/cache-directory');",
      "import type Default from './type-default';",
    ].join('\n');
    expect(importsOf(source)).toEqual({
      relative: ['./zod-messages', './multi-line', '../reexported', './everything'],
      packages: ['zod', 'nx'],
    });
  });
});

describe('packageOf', () => {
  it('names the package, scoped or not; none for Node\'s own modules', () => {
    expect(packageOf('zod/mini')).toBe('zod');
    expect(packageOf('@nx/devkit/internal')).toBe('@nx/devkit');
    expect(packageOf('node:path')).toBeNull();
  });
});

describe('codeInputs of the real plugin', () => {
  const declared = declaredPackages(REPO);
  const sources = (executor: ExecutorName) => codeInputs(REPO, executor, declared).files.map((f) => f.slice(`${CODE}/`.length));

  it('holds the entry files, the runner, the executor and what they import', () => {
    const wheel = sources('python-wheel');
    expect(wheel.slice(0, 4)).toEqual(['run.js', 'load.js', 'build.js', 'executors/python-wheel.js']);
    expect(wheel).toEqual(expect.arrayContaining(['src/run.ts', 'src/options.ts', 'src/executors/python-wheel.ts']));
    expect(wheel).not.toContain('src/executors/docker-build.ts');
    expect(wheel).not.toContain('src/lifecycle.ts');
    expect(wheel).not.toContain('src/engines/classic.ts');

    const build = sources('docker-build');
    expect(build).toEqual(expect.arrayContaining(['executors/docker-build.js', 'src/executors/docker-build.ts', 'src/lifecycle.ts', 'src/engines/index.ts', 'src/engines/classic.ts', 'src/engines/failures.ts', 'src/presence.ts', 'src/record.ts']));
    expect(build).not.toContain('src/executors/python-wheel.ts');
    expect(build).not.toContain('src/plugin.ts');
  });

  it('names the declared npm packages the code imports', () => {
    expect(codeInputs(REPO, 'docker-build', declared).externalDependencies).toEqual(expect.arrayContaining(['dockerfile-ast', 'execa', 'zod']));
    expect(codeInputs(REPO, 'python-wheel', declared).externalDependencies).not.toContain('dockerfile-ast');
  });

  // esbuild follows imports as the bundles (build.js) are made. More is harmless (an import used
  // only as a type, which esbuild drops); a source missing would let a cache hit replay old code.
  it.each(EXECUTORS)('%s: its sources hold every one esbuild bundles for the runner and the executor', (executor) => {
    const bundled = buildSync({
      absWorkingDir: join(REPO, PLUGIN_DIR),
      entryPoints: ['./src/run.ts', `./src/executors/${executor}.ts`],
      outdir: 'unused',
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external', // only the plugin's own sources are compared
      logLevel: 'silent',
    }).metafile!;
    const bundledSources = Object.keys(bundled.inputs).filter((f) => f.startsWith('src/')).sort();
    expect(bundledSources.length).toBeGreaterThan(2);
    expect(sources(executor)).toEqual(expect.arrayContaining(bundledSources));
  });

  it('refuses an import that resolves to no file, naming the importer', () => {
    const root = mkdtempSync(join(tmpdir(), 'code-inputs-'));
    try {
      const src = join(root, PLUGIN_DIR, 'src');
      mkdirSync(join(src, 'executors'), { recursive: true });
      writeFileSync(join(src, 'run.ts'), "import './gone';\n");
      writeFileSync(join(src, 'executors/docker-build.ts'), '');
      expect(() => codeInputs(root, 'docker-build', new Set())).toThrow(`${PLUGIN_DIR}/src/run.ts imports "./gone", which is no file under ${PLUGIN_DIR}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('declaredPackages', () => {
  it('is empty without a lock file: Nx would have no versions to hash', () => {
    const root = mkdtempSync(join(tmpdir(), 'declared-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ dependencies: { zod: '4' }, devDependencies: { nx: '24' } }));
      expect(declaredPackages(root)).toEqual(new Set());
      writeFileSync(join(root, 'package-lock.json'), '{}');
      expect(declaredPackages(root)).toEqual(new Set(['zod', 'nx']));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
