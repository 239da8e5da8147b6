// The command behind the inferred targets: `node tools/image-chain/run.js <executor> <projectRoot>`
// runs one of our executors in the process nx:run-commands starts, with the options the plugin
// put in IMAGE_CHAIN_OPTIONS. Nx starts a run-commands process straight from its task runner,
// while a custom executor gets a forked Nx process of its own first, a cost paid by every task
// (docs/benchmarks.md).
// The executors stay usable as executors too (executors.json), for project.json targets.
import type { ExecutorContext } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { commandFor, OPTIONS_ENV } from './command';
import { EXECUTOR_OPTIONS, OptionsError, parseOptions, type ExecutorName } from './options';

export type Executor = (options: never, context: ExecutorContext) => Promise<{ success: boolean }>;

/**
 * What an executor reads of its context. The task's own project root comes on the command
 * line; other projects' roots (an image's artifact sources) from the project graph Nx wrote for
 * this run (the file its readCachedProjectGraph reads: @nx/devkit itself is slow to load).
 */
function contextFor(root: string, projectName: string, projectRoot: string): ExecutorContext {
  let graph: Record<string, { data: { root: string } }> | undefined;
  const otherProject = (name: string) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { workspaceDataDirectory } = require('nx/src/utils/cache-directory') as { workspaceDataDirectory: string };
    graph ??= JSON.parse(readFileSync(join(workspaceDataDirectory, 'project-graph.json'), 'utf8')).nodes;
    return graph![name]?.data;
  };
  const projects = new Proxy({} as Record<string, { root: string }>, {
    get: (_, name) => (name === projectName ? { root: projectRoot } : otherProject(String(name))),
  });
  return { root, cwd: root, isVerbose: false, projectName, projectsConfigurations: { version: 2, projects }, nxJsonConfiguration: {} } as unknown as ExecutorContext;
}

/**
 * nx:run-commands (through npm-run-path) puts every node_modules/.bin above the working folder
 * and then node's own folder in front of PATH: /usr/bin here, so `python3` would be the system's
 * rather than the venv's or pyenv's the user runs nx with. This takes that prefix off again.
 */
export function shellPath(path: string, cwd: string, nodeFolder = dirname(process.execPath)): string {
  const prefix: string[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    prefix.push(join(dir, 'node_modules/.bin'));
    if (dir === dirname(dir)) break;
  }
  prefix.push(nodeFolder);
  const parts = path.split(delimiter);
  return prefix.every((p, i) => parts[i] === p) ? parts.slice(prefix.length).join(delimiter) : path;
}

function isExecutor(name: string | undefined): name is ExecutorName {
  return name !== undefined && Object.hasOwn(EXECUTOR_OPTIONS, name);
}

/** Runs `argv` = [executor, projectRoot]; `loadExecutor` loads an executor module by its (checked) name. */
export async function main(argv: string[], loadExecutor: (name: ExecutorName) => Executor): Promise<number> {
  if (process.env.PATH) process.env.PATH = shellPath(process.env.PATH, process.cwd());
  const [name, projectRoot] = argv;
  const project = process.env.NX_TASK_TARGET_PROJECT;
  if (!isExecutor(name) || !projectRoot || !project) {
    console.error(`usage: nx run <project>:<target>, where the target's command is "${commandFor('<executor>')}"; executors: ${Object.keys(EXECUTOR_OPTIONS).join(', ')}`);
    return 2;
  }
  const where = `${project}:${process.env.NX_TASK_TARGET_TARGET ?? name}`;
  let options: unknown;
  try {
    options = parseOptions(name, JSON.parse(process.env[OPTIONS_ENV] ?? '{}'), where);
  } catch (e) {
    const why = e instanceof OptionsError ? e.message : `${OPTIONS_ENV} is not JSON (${(e as Error).message})`;
    console.error(`${why}\nThe options come from the target's options.env.${OPTIONS_ENV} in project.json, or from the image-chain plugin (see docs/reference.md).`);
    return 2;
  }
  const { success } = await loadExecutor(name)(options as never, contextFor(process.cwd(), project, projectRoot));
  return success ? 0 : 1;
}

/** The same executor as an Nx executor (executors.json): its options are parsed first, as main() does. */
export function asNxExecutor(name: ExecutorName, loadExecutor: (name: ExecutorName) => Executor) {
  return async (raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> => {
    let options: unknown;
    try {
      options = parseOptions(name, raw, `${context.projectName}:${context.targetName}`);
    } catch (e) {
      console.error((e as Error).message);
      return { success: false };
    }
    return loadExecutor(name)(options as never, context);
  };
}
