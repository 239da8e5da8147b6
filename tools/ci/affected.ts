// The CI pipeline's affected step, runnable on any CI:
//   node -r @swc-node/register tools/ci/affected.ts --base <sha> --head <sha> [--targets a,b,...] [--print]
// Nx selects the tasks that the changed files reach, task by task (a changed container test
// reruns that test, not the image build), and carries the change down to the stages built FROM
// a changed one through the upstream image IDs they read. What Nx cannot see is a change of
// images/versions.json: the file belongs to no project, and its fields reach the tasks only as
// target options. So this adds the image projects whose rendered settings that change really
// changed, with every project built FROM them, and runs their targets after Nx's selection.
// --print lists the tasks instead of running them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectsChangedByConfig } from '../image-chain/src/affected';
import { configuredFile, loadConfig } from '../image-chain/src/config';

const ROOT = resolve(__dirname, '../..');
const NX = join(ROOT, 'node_modules/nx/dist/bin/nx.js');
// Task selection whatever nx.json's affected.legacy says: the step relies on it.
const env = { ...process.env, NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_LEGACY_AFFECTED: 'false' };

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
}

function nx(...args: string[]): string {
  return execFileSync('node', [NX, ...args], { cwd: ROOT, encoding: 'utf8', env });
}

/** Runs fn with a scratch file for an nx command to write its JSON into. */
function nxJson<T>(fn: (file: string) => void): T {
  const dir = mkdtempSync(join(tmpdir(), 'affected-'));
  try {
    fn(join(dir, 'out.json'));
    return JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tasks of the targets that Nx finds the changed files reach (its --explain answer, nothing run). */
export function tasksAffectedByFiles(base: string, head: string, targets: string[]): string[] {
  const explanation = nxJson<{ affected?: Record<string, unknown> }>((file) => nx('affected', '-t', ...targets, `--base=${base}`, `--head=${head}`, `--explain=${file}`));
  return Object.keys(explanation.affected ?? {}).sort();
}

interface Graph {
  nodes: Record<string, { data: { targets?: Record<string, unknown> } }>;
  dependencies: Record<string, { target: string }[]>;
}

/**
 * The projects whose rendered settings the change of the versions file between base and head
 * changed, with every project that depends on them, and the project graph they were found in.
 */
export function projectsAffectedByConfig(base: string, head: string): { projects: string[]; graph: Graph | null } {
  // The versions file nx.json names (the plugin's "config" option).
  const configFile = configuredFile(ROOT);
  if (!git('diff', '--name-only', base, head).split('\n').includes(configFile)) return { projects: [], graph: null };
  let before: unknown = null;
  try {
    before = JSON.parse(git('show', `${base}:${configFile}`));
  } catch {
    // no versions file at base: everything is new
  }
  const stageFiles = git('ls-files', 'images/*/stage.json').split('\n').filter(Boolean);
  const changed = projectsChangedByConfig(ROOT, stageFiles, before, loadConfig(ROOT, configFile), configFile);
  if (!changed.length) return { projects: [], graph: null };
  const graph = nxJson<{ graph: Graph }>((file) => nx('graph', `--file=${file}`)).graph;
  const dependents = new Map<string, string[]>();
  for (const [source, deps] of Object.entries(graph.dependencies)) {
    for (const d of deps) dependents.set(d.target, [...(dependents.get(d.target) ?? []), source]);
  }
  const affected = new Set<string>();
  const queue = [...changed];
  while (queue.length) {
    const p = queue.shift()!;
    if (affected.has(p)) continue;
    affected.add(p);
    queue.push(...(dependents.get(p) ?? []));
  }
  return { projects: [...affected].sort(), graph };
}

if (require.main === module) {
  const base = arg('base');
  const head = arg('head', 'HEAD');
  const targets = arg('targets', 'lint,test,build,docker-build,container-test,docker-push').split(',');
  const config = projectsAffectedByConfig(base, head);
  if (process.argv.includes('--print')) {
    const tasks = new Set(tasksAffectedByFiles(base, head, targets));
    for (const p of config.projects) {
      for (const t of targets) if (config.graph?.nodes[p]?.data.targets?.[t]) tasks.add(`${p}:${t}`);
    }
    console.log([...tasks].sort().join('\n'));
  } else {
    const run = (...args: string[]) => execFileSync('node', [NX, ...args], { cwd: ROOT, stdio: 'inherit', env });
    run('affected', '-t', ...targets, `--base=${base}`, `--head=${head}`);
    if (config.projects.length) {
      console.log(`${configuredFile(ROOT)} changed the settings of ${config.projects.join(', ')} (with what is built FROM them):`);
      run('run-many', '-t', ...targets, '-p', config.projects.join(','));
    }
  }
}
