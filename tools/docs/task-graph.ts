// Renders the README's task-graph diagram from `nx ... --graph=<file>`, and checks that the
// README holds the current one. Usage: tools/node/env.sh node -r @swc-node/register tools/docs/task-graph.ts [--write]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeOrCheck } from './readme-block';

const ROOT = resolve(__dirname, '../..');
export const BLOCK = 'task-graph';

interface TaskGraphFile {
  // Nx 24 names each dependency as { id }; earlier releases as the bare task id.
  tasks: { tasks: Record<string, unknown>; dependencies: Record<string, (string | { id: string })[]> };
}

/** The task graph of building and testing every image, as Nx computes it. */
export function readTaskGraph(root = ROOT): TaskGraphFile['tasks'] {
  const dir = mkdtempSync(join(tmpdir(), 'graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync('node', [join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'docker-build', 'container-test', `--graph=${file}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdio: 'ignore',
    });
    return (JSON.parse(readFileSync(file, 'utf8')) as TaskGraphFile).tasks;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function mermaid(graph: TaskGraphFile['tasks']): string {
  const ids = Object.keys(graph.tasks).sort();
  const node = (id: string) => id.replace(/[^A-Za-z0-9]/g, '_');
  const lines = ['```mermaid', 'flowchart LR'];
  for (const id of ids) lines.push(`  ${node(id)}["${id}"]`);
  for (const id of ids) {
    for (const dep of (graph.dependencies[id] ?? []).map((d) => (typeof d === 'string' ? d : d.id)).sort()) lines.push(`  ${node(dep)} --> ${node(id)}`);
  }
  lines.push('```');
  return lines.join('\n');
}

if (require.main === module) {
  writeOrCheck(join(ROOT, 'README.md'), BLOCK, mermaid(readTaskGraph()), 'tools/node/env.sh node -r @swc-node/register tools/docs/task-graph.ts --write');
}
