// The CI pipeline's affected step, runnable on any CI:
//   node -r @swc-node/register tools/ci/affected.ts --base <sha> --head <sha> [--targets a,b,...] [--print]
// Projects affected by the files changed between base and head (Nx), plus the image projects
// whose settings a change of images/versions.json really changed, plus everything built FROM
// those; then `nx run-many` of the targets over them, in graph order.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectsChangedByConfig } from '../image-chain/src/affected';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../image-chain/src/config';

const ROOT = resolve(__dirname, '../..');
const NX = join(ROOT, 'node_modules/nx/dist/bin/nx.js');
const env = { ...process.env, NX_NO_CLOUD: 'true', NX_TUI: 'false' };

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

/** Reverse edges of the project graph: who depends on whom. */
function dependents(): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'graph-'));
  try {
    nx('graph', `--file=${join(dir, 'g.json')}`);
    const graph = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')).graph as { dependencies: Record<string, { target: string }[]> };
    const reverse = new Map<string, string[]>();
    for (const [source, deps] of Object.entries(graph.dependencies)) {
      for (const d of deps) reverse.set(d.target, [...(reverse.get(d.target) ?? []), source]);
    }
    return reverse;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function affectedProjects(base: string, head: string): string[] {
  const files = git('diff', '--name-only', base, head).split('\n').filter(Boolean);
  const affected = new Set<string>();
  const others = files.filter((f) => f !== DEFAULT_CONFIG_FILE);
  if (others.length) {
    for (const p of JSON.parse(nx('show', 'projects', '--affected', `--files=${others.join(',')}`, '--json')) as string[]) affected.add(p);
  }
  if (files.includes(DEFAULT_CONFIG_FILE)) {
    let before: unknown = null;
    try {
      before = JSON.parse(git('show', `${base}:${DEFAULT_CONFIG_FILE}`));
    } catch {
      // no versions file at base: everything is new
    }
    const stageFiles = git('ls-files', 'images/*/stage.json').split('\n').filter(Boolean);
    const changed = projectsChangedByConfig(ROOT, stageFiles, before, loadConfig(ROOT), DEFAULT_CONFIG_FILE);
    const reverse = dependents();
    const queue = [...changed];
    while (queue.length) {
      const p = queue.shift()!;
      if (affected.has(p) && !changed.includes(p)) continue;
      affected.add(p);
      queue.push(...(reverse.get(p) ?? []).filter((d) => !affected.has(d)));
    }
  }
  return [...affected].sort();
}

if (require.main === module) {
  const projects = affectedProjects(arg('base'), arg('head', 'HEAD'));
  if (process.argv.includes('--print')) {
    console.log(projects.join('\n'));
  } else if (projects.length === 0) {
    console.log('Nothing affected.');
  } else {
    const targets = arg('targets', 'lint,test,build,docker-build,container-test,docker-push');
    execFileSync('node', [NX, 'run-many', '-t', ...targets.split(','), '-p', projects.join(',')], { cwd: ROOT, stdio: 'inherit', env });
  }
}
