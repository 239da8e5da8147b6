// The fixture workspace copied into a temporary folder for unit tests: no git, no engine, no nx
// CLI. Its versions file names a made-up OS digest and a fixed prefix, so what the plugin infers
// from it is the same in every run (on every machine, but for the host's platform).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { DEFAULT_CONFIG_FILE, loadConfig, type ChainConfig } from '../src/config';
import { PLUGIN_DIR } from '../src/code-inputs';
import { STAGE_GLOB } from '../src/stage';

export const REPO = resolve(__dirname, '../../..');
const FIXTURE = join(__dirname, 'fixtures/workspace');

export const FIXTURE_PREFIX = 'unitprefix';
export const FIXTURE_OS_IMAGE = `fixture-os@sha256:${'0123456789abcdef'.repeat(4)}`;

/** What of the plugin a workspace holds: code inputs are read from the workspace's own copy. */
const PLUGIN_ENTRIES = ['src', 'run.js', 'load.js', 'build.js', 'executors'];

export interface FixtureWorkspace {
  dir: string;
  config: ChainConfig;
  stageFiles: string[];
  remove(): void;
}

export function fixtureWorkspace(): FixtureWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'chain-unit-'));
  cpSync(FIXTURE, dir, { recursive: true });
  for (const entry of PLUGIN_ENTRIES) {
    cpSync(join(REPO, PLUGIN_DIR, entry), join(dir, PLUGIN_DIR, entry), {
      recursive: true,
      filter: (src) => !src.endsWith('.test.ts') && !src.includes('__snapshots__'),
    });
  }
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  // declaredPackages only asks whether a lock file exists (Nx reads the versions from it).
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  const versions = join(dir, DEFAULT_CONFIG_FILE);
  writeFileSync(versions, readFileSync(versions, 'utf8').replaceAll('@@OS_IMAGE@@', FIXTURE_OS_IMAGE).replaceAll('@@PREFIX@@', FIXTURE_PREFIX));
  return {
    dir,
    config: loadConfig(dir, DEFAULT_CONFIG_FILE),
    stageFiles: globSync(STAGE_GLOB, { cwd: dir }).sort(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
