// Nx glue: stage files become projects, targets and graph edges; the task hooks keep
// cache hits honest against the engine.
import type { CreateDependencies, DependencyType, RawProjectGraphDependency, CreateNodes, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, REGISTRY_ENV } from './config';
import { commandTarget } from './command';
import { CONTAINER_TEST_HELPERS, CONTAINER_TEST_PYTHON } from './container-test-host';
import { buildChainModel, type ChainModel, type ImageProject } from './model';
import { recordDir } from './record';
import { STAGE_GLOB } from './stage';

// @nx/devkit is imported for types only: loading it costs every nx command ~70 ms, for one enum value.
const IMPLICIT = 'implicit' as DependencyType.implicit;

export interface ImageChainPluginOptions {
  /** The versions file, relative to the workspace root. */
  config?: string;
}

export const DOCKER_BUILD = 'docker-build';
export const CONTAINER_TEST = 'container-test';
export const DOCKER_PUSH = 'docker-push';

function model(workspaceRoot: string, stageFiles: readonly string[], options: ImageChainPluginOptions | undefined): ChainModel {
  const configFile = options?.config ?? DEFAULT_CONFIG_FILE;
  return buildChainModel(workspaceRoot, [...stageFiles], loadConfig(workspaceRoot, configFile), configFile);
}

function dockerBuildTarget(image: ImageProject): TargetConfiguration {
  return {
    // Nx hashes target options: the resolved build args, tags and platform are part of the key,
    // so a config field changes exactly the stages that render it.
    ...commandTarget(image.options.os ? 'os-image' : 'docker-build', image.options),
    cache: true,
    inputs: image.inputs,
    outputs: [`{workspaceRoot}/${recordDir(image.name)}`],
    // The upstream image, and the artifact tasks named in the stage file (the wheel for final).
    dependsOn: [`^${DOCKER_BUILD}`, ...image.options.artifacts.map((a) => ({ projects: [a.project], target: a.target }))],
    metadata: { description: `Build the ${image.stage} image${image.line ? ` of line ${image.line}` : ''} (${image.options.tags.join(', ')})`, technologies: ['docker'] },
  };
}

function containerTestTarget(image: ImageProject): TargetConfiguration {
  return {
    ...commandTarget('container-test', { tests: image.containerTests, line: image.line, python: CONTAINER_TEST_PYTHON }),
    cache: true,
    // The result depends on the tests, the host side they share (helpers, the pinned clients they drive)
    // and exactly which image they ran against.
    inputs: [
      `{workspaceRoot}/${image.containerTests}/**/*`,
      `{workspaceRoot}/${CONTAINER_TEST_HELPERS}/**/*`,
      { dependentTasksOutputFiles: `${recordDir(image.name)}/image.id` },
    ],
    dependsOn: [DOCKER_BUILD],
    metadata: { description: `Run ${image.containerTests} against the ${image.name} image`, technologies: ['docker', 'pytest'] },
  };
}

function dockerPushTarget(image: ImageProject): TargetConfiguration {
  return {
    ...commandTarget('docker-push', { stage: image.stage, tags: image.options.tags }),
    cache: true,
    inputs: [{ env: REGISTRY_ENV }, { dependentTasksOutputFiles: `${recordDir(image.name)}/image.id` }],
    outputs: [`{workspaceRoot}/dist/pushes/${image.name}`],
    // Never publish an image whose container tests did not pass.
    dependsOn: [DOCKER_BUILD, ...(image.containerTests ? [CONTAINER_TEST] : [])],
    metadata: { description: `Push ${image.options.tags.join(', ')} to the registry (IMAGE_CHAIN_REGISTRY), by digest`, technologies: ['docker'] },
  };
}

export const createNodes: CreateNodes<ImageChainPluginOptions> = [
  STAGE_GLOB,
  (stageFiles, options, context) => {
    const chain = model(context.workspaceRoot, stageFiles, options);
    return stageFiles.map((file) => {
      const projects: Record<string, ProjectConfiguration> = {};
      for (const recipe of chain.recipes.filter((r) => r.stageFile === file)) {
        projects[recipe.root] = { name: recipe.name, root: recipe.root, tags: ['type:dockerfile'], targets: {} };
      }
      for (const image of chain.images.filter((i) => i.stageFile === file)) {
        projects[image.root] = {
          name: image.name,
          root: image.root,
          projectType: 'application',
          tags: ['type:image', `stage:${image.stage}`, ...(image.line ? [`line:${image.line}`] : [])],
          targets: {
            [DOCKER_BUILD]: dockerBuildTarget(image),
            ...(image.containerTests ? { [CONTAINER_TEST]: containerTestTarget(image) } : {}),
            [DOCKER_PUSH]: dockerPushTarget(image),
          },
        };
      }
      return [file, { projects }] as const;
    });
  },
];

// Edges are project-graph edges (not only task ordering), so the cache and `nx affected` see them.
export const createDependencies: CreateDependencies<ImageChainPluginOptions> = (options, context) => {
  const stageFiles = Object.values(context.projects)
    .filter((p) => p.root.startsWith('images/') && p.root.split('/').length === 2)
    .map((p) => `${p.root}/stage.json`);
  let chain: ChainModel;
  try {
    chain = model(context.workspaceRoot, stageFiles, options);
  } catch (e) {
    if (e instanceof ConfigError) return []; // createNodes has reported it already
    throw e;
  }
  const edges: RawProjectGraphDependency[] = [];
  for (const image of chain.images) {
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
