// Nx glue: stage files become projects, targets and graph edges; Python packages get their
// wheel target; the task hooks keep cache hits honest against the engine.
import type { CreateDependencies, CreateNodes, DependencyType, ProjectConfiguration, RawProjectGraphDependency, TargetConfiguration } from '@nx/devkit';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { globSync } from 'tinyglobby';
import { codeInputs, declaredPackages, type CodeInputs } from './code-inputs';
import { commandTarget } from './command';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, REGISTRY_ENV } from './config';
import { CONTAINER_TEST_HELPERS, CONTAINER_TEST_PYTHON } from './container-test-host';
import { buildChainModel, type ChainModel, type ImageProject } from './model';
import type { ContainerTestOptions, DockerPushOptions, ExecutorName, PythonWheelOptions } from './options';
import { pushRecordDir, recordDir } from './record';
import { STAGE_GLOB } from './stage';
import { CONTAINER_TEST, DOCKER_BUILD, DOCKER_PUSH } from './targets';

export { CONTAINER_TEST, DOCKER_BUILD, DOCKER_PUSH } from './targets';

// @nx/devkit is imported for types only: loading it costs every nx command, for one enum value.
const IMPLICIT = 'implicit' as DependencyType.implicit;

export interface ImageChainPluginOptions {
  /** The versions file, relative to the workspace root. */
  config?: string;
}

/** Python packages: a pyproject.toml beside a project.json. Their wheel is the `build` target. */
export const PYTHON_GLOB = 'packages/*/pyproject.toml';
export const WHEEL_TARGET = 'build';
const PLUGIN_GLOB = `{${STAGE_GLOB},${PYTHON_GLOB}}`;

/**
 * The model of the last graph computation, with the texts it was made from: createDependencies
 * and the task hooks use it while the versions file and stage files are unchanged.
 */
let last: { key: string; model: ChainModel } | null = null;

function modelKey(workspaceRoot: string, configFile: string, stageFiles: readonly string[]): string {
  const read = (file: string) => {
    try {
      return readFileSync(join(workspaceRoot, file), 'utf8');
    } catch {
      return '\0missing';
    }
  };
  return JSON.stringify([workspaceRoot, configFile, ...[...stageFiles].sort().flatMap((f) => [f, read(f)]), read(configFile)]);
}

function freshModel(workspaceRoot: string, stageFiles: readonly string[], options: ImageChainPluginOptions | undefined, key?: string): ChainModel {
  const configFile = options?.config ?? DEFAULT_CONFIG_FILE;
  const model = buildChainModel(workspaceRoot, [...stageFiles], loadConfig(workspaceRoot, configFile), configFile);
  last = { key: key ?? modelKey(workspaceRoot, configFile, stageFiles), model };
  return model;
}

/** The chain model for `workspaceRoot`: the one createNodes made, while its sources are unchanged. */
export function chainModel(workspaceRoot: string, options: ImageChainPluginOptions | undefined, stageFiles?: readonly string[]): ChainModel {
  const files = stageFiles ?? globSync(STAGE_GLOB, { cwd: workspaceRoot });
  const key = modelKey(workspaceRoot, options?.config ?? DEFAULT_CONFIG_FILE, files);
  return last?.key === key ? last.model : freshModel(workspaceRoot, files, options, key);
}

type Inputs = NonNullable<TargetConfiguration['inputs']>;

/** Code inputs per executor, found once per graph computation. */
function codeOf(workspaceRoot: string): (executor: ExecutorName) => Inputs {
  const declared = declaredPackages(workspaceRoot);
  const found = new Map<ExecutorName, CodeInputs>();
  return (executor) => {
    if (!found.has(executor)) found.set(executor, codeInputs(workspaceRoot, executor, declared));
    const { files, externalDependencies } = found.get(executor)!;
    return [...files, ...(externalDependencies.length ? [{ externalDependencies }] : [])];
  };
}

function dockerBuildTarget(image: ImageProject, code: Inputs): TargetConfiguration {
  const { executor, options } = image.build;
  const artifacts = executor === 'docker-build' ? options.artifacts : [];
  return {
    // Nx hashes target options: the resolved build args, labels and platform are part of the
    // key, so a config field changes exactly the stages that render it. Tags are not: they are
    // applied to the recorded image when the run ends.
    ...commandTarget(executor, options),
    cache: true,
    inputs: [...image.inputs, ...code],
    outputs: [`{workspaceRoot}/${recordDir(image.name)}`],
    // The upstream image, and the artifact tasks named in the stage file (the wheel for final).
    dependsOn: [`^${DOCKER_BUILD}`, ...artifacts.map((a) => ({ projects: [a.project], target: a.target }))],
    metadata: { description: `Build the ${image.stage} image${image.line ? ` of line ${image.line}` : ''}, tagged ${image.tags.join(', ')}`, technologies: ['docker'] },
  };
}

function containerTestTarget(image: ImageProject, code: Inputs): TargetConfiguration {
  const options: ContainerTestOptions = { tests: image.containerTests!, variables: image.buildVariables, python: CONTAINER_TEST_PYTHON, engine: image.build.options.engine };
  return {
    ...commandTarget('container-test', options),
    cache: true,
    // The result depends on the tests, the host side they share (helpers, the pinned clients they drive)
    // and exactly which image they ran against.
    inputs: [
      `{workspaceRoot}/${image.containerTests}/**/*`,
      `{workspaceRoot}/${CONTAINER_TEST_HELPERS}/**/*`,
      { dependentTasksOutputFiles: `${recordDir(image.name)}/image.id` },
      ...code,
    ],
    dependsOn: [DOCKER_BUILD],
    metadata: { description: `Run ${image.containerTests} against the ${image.name} image`, technologies: ['docker', 'pytest'] },
  };
}

function dockerPushTarget(image: ImageProject, code: Inputs): TargetConfiguration {
  const options: DockerPushOptions = { image: image.name, stage: image.stage, registry: image.build.options.registry, tags: image.publishTags, engine: image.build.options.engine };
  return {
    ...commandTarget('docker-push', options),
    cache: true,
    inputs: [{ env: REGISTRY_ENV }, { dependentTasksOutputFiles: `${recordDir(image.name)}/image.id` }, ...code],
    outputs: [`{workspaceRoot}/${pushRecordDir(image.name)}`],
    // Never publish an image whose container tests did not pass.
    dependsOn: [{ projects: [image.name], target: DOCKER_BUILD }, ...(image.containerTests ? [{ projects: [image.name], target: CONTAINER_TEST }] : [])],
    metadata: { description: `Push ${image.publishTags.join(', ')} to the registry (IMAGE_CHAIN_REGISTRY, else publish.registry), by the digest the ${image.name} build pushed`, technologies: ['docker'] },
  };
}

/** A release project's root: a folder of its own under the image's (Nx needs one root per project). */
function releaseRoot(image: ImageProject): string {
  return `${image.root}/release`;
}

function imageProjects(chain: ChainModel, file: string, code: (e: ExecutorName) => Inputs): Record<string, ProjectConfiguration> {
  const projects: Record<string, ProjectConfiguration> = {};
  for (const recipe of chain.recipes.filter((r) => r.stageFile === file)) {
    projects[recipe.root] = { name: recipe.name, root: recipe.root, tags: ['type:dockerfile'], targets: {} };
  }
  for (const image of chain.images.filter((i) => i.stageFile === file)) {
    projects[image.root] = {
      name: image.name,
      root: image.root,
      projectType: 'application',
      tags: ['type:image', `stage:${image.stage}`, ...(image.line ? [`line:${image.line}`] : []), `suite:${image.suite}`],
      targets: {
        [DOCKER_BUILD]: dockerBuildTarget(image, code(image.build.executor)),
        ...(image.containerTests ? { [CONTAINER_TEST]: containerTestTarget(image, code('container-test')) } : {}),
      },
    };
    projects[releaseRoot(image)] = {
      name: image.release,
      root: releaseRoot(image),
      tags: ['type:release', `stage:${image.stage}`, ...(image.line ? [`line:${image.line}`] : []), `suite:${image.suite}`],
      targets: { [DOCKER_PUSH]: dockerPushTarget(image, code('docker-push')) },
    };
  }
  return projects;
}

/**
 * A Python package's wheel target, and named inputs holding the code of the executors its
 * project.json may run (`"inputs": [..., "image-chain-python-module"]`).
 */
function pythonProject(root: string, code: (e: ExecutorName) => Inputs): ProjectConfiguration {
  const options: PythonWheelOptions = { python: 'python3', outputPath: 'dist' };
  return {
    root,
    namedInputs: { 'image-chain-python-module': code('python-module') },
    targets: {
      [WHEEL_TARGET]: {
        ...commandTarget('python-wheel', options),
        cache: true,
        inputs: ['{projectRoot}/pyproject.toml', '{projectRoot}/README.md', '{projectRoot}/src/**/*', '!{projectRoot}/**/__pycache__/**', ...code('python-wheel')],
        outputs: ['{projectRoot}/dist'],
        metadata: { description: 'Build the wheel (python -m build, reproducible)', technologies: ['python'] },
      },
    },
  };
}

export const createNodes: CreateNodes<ImageChainPluginOptions> = [
  PLUGIN_GLOB,
  (files, options, context) => {
    const stageFiles = files.filter((f) => f.endsWith('/stage.json'));
    const chain = freshModel(context.workspaceRoot, stageFiles, options);
    const code = codeOf(context.workspaceRoot);
    return files.map((file) => {
      if (file.endsWith('/pyproject.toml')) {
        const root = dirname(file);
        const projects = existsSync(join(context.workspaceRoot, root, 'project.json')) ? { [root]: pythonProject(root, code) } : {};
        return [file, { projects }] as const;
      }
      return [file, { projects: imageProjects(chain, file, code) }] as const;
    });
  },
];

// Edges are project-graph edges (not only task ordering), so the cache and `nx affected` see them.
export const createDependencies: CreateDependencies<ImageChainPluginOptions> = (options, context) => {
  // Every image project lives in its stage folder (images/<stage>, or a line's or suite's folder under it).
  const stageFiles = [...new Set(Object.values(context.projects)
    .filter((p) => p.root.startsWith('images/'))
    .map((p) => `${p.root.split('/').slice(0, 2).join('/')}/stage.json`))];
  let chain: ChainModel;
  try {
    chain = chainModel(context.workspaceRoot, options, stageFiles);
  } catch (e) {
    if (e instanceof ConfigError) return []; // createNodes has reported it already
    throw e;
  }
  const edges: RawProjectGraphDependency[] = [];
  for (const image of chain.images) {
    edges.push({ source: image.release, target: image.name, type: IMPLICIT });
    const targets = [image.upstream, image.recipe, ...image.artifactProjects].filter((t): t is string => t !== null);
    for (const target of targets) {
      if (!context.projects[target]) {
        throw new ConfigError(`${image.stageFile}: artifacts: names no Nx project "${target}"; check the project name in its project.json`);
      }
      edges.push({ source: image.name, target, type: IMPLICIT });
    }
  }
  return edges;
};
