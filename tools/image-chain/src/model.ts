// The chain model: stage files × version lines → the image projects Nx will know, with their
// upstream, their artifacts and their fully resolved build settings. Pure: no Nx, no engine.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, normalizeName, REGISTRY_ENV, type ChainConfig } from './config';
import type { DockerBuildOptions, EngineSettings, OsImageOptions } from './options';
import { contextInputs } from './dockerignore';
import { recordDir } from './record';
import { LOCK_COMMAND, parseRequirementList, REQUIREMENTS_LOCK, type RequirementsLockOptions } from './requirements-lock';
import { loadStage, stageNameOf, type DockerfileStage, type StageFile } from './stage';
import { imageTag, projectName, singleRepositoryTag } from './tags';
import { lineVariables, osVariables, render, variablesIn, type Variables } from './template';

export interface ImageProject {
  name: string;
  root: string;
  stage: string;
  line: string | null;
  /** The Debian suite the image is (built on). */
  suite: string;
  stageFile: string;
  recipe: string | null; // the project owning the stage folder, for per-line projects
  upstream: string | null;
  artifactProjects: string[];
  /** What builds the image: the docker-build or os-image executor, with its options. */
  build: { executor: 'docker-build'; options: DockerBuildOptions } | { executor: 'os-image'; options: OsImageOptions };
  /** Its names in the engine, "repository:tag": applied to the recorded image, never part of its key. */
  tags: string[];
  /** What docker-push publishes: the tags, and the single-repository tag where configured. */
  publishTags: string[];
  inputs: (string | { dependentTasksOutputFiles: string } | { env: string })[];
  /**
   * The variables its build renders, its own and its upstreams' (build args, locks, labels):
   * what its image is made from. Its container tests get these, and only these, so a variable
   * that only names images (e.g. {python} in a tag) reruns no test and rebuilds no image.
   */
  buildVariables: Variables;
  /** The project holding docker-push, apart from the image's (see plugin.ts). */
  release: string;
  /** Folder of the stage's container tests, when it has one. */
  containerTests: string | null;
}

export interface RecipeProject {
  name: string;
  root: string;
  stageFile: string;
}

export interface ChainModel {
  images: ImageProject[];
  recipes: RecipeProject[];
  /** The engine every image target and the task hooks use. */
  engine: EngineSettings;
}

/** The requirements lock an image installs from, if it has one (OS images have none). */
export function lockOf(image: ImageProject): RequirementsLockOptions | null {
  return image.build.executor === 'docker-build' ? image.build.options.requirementsLock : null;
}

/** The Dockerfile build options of a per-line image; an error for the OS image. */
export function dockerfileOptions(image: ImageProject): DockerBuildOptions {
  if (image.build.executor !== 'docker-build') throw new Error(`${image.name} is the OS image: it has no Dockerfile`);
  return image.build.options;
}

/** A stage folder's container tests: pytest files run against the built image. */
export const CONTAINER_TESTS = 'container-test';

export function hostPlatform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[process.arch as string] ?? process.arch;
  return `linux/${arch}`;
}

export function recipeProjectName(stage: string): string {
  return `${stage}-dockerfile`;
}

/**
 * The project that publishes an image. Not the image's own: Nx hashes the options of every
 * target of a project into each of its tasks, so the tags docker-push holds would otherwise be
 * part of the image's cache key.
 */
export function releaseProjectName(image: string): string {
  return `${image}-release`;
}

/** The OS stage of a suite: the bare stage name for the default line's suite, else "<stage>-<suite>" ("os-trixie"). */
export function osProjectName(config: ChainConfig, stage: string, suite: string): string {
  return projectName(stage, suite, config.lines[config.defaultLine].os);
}

/** The variables a stage file's templates reference (the OS stage: its settings' too). */
function ownVariables(spec: StageFile): string[] {
  if (spec.kind === 'os') return ['suite', 'variant', ...variablesIn(spec.version)];
  return [...Object.values(spec.buildArgs), ...(spec.requirementsLock?.requirements ?? []), spec.version].flatMap(variablesIn);
}

export function buildChainModel(workspaceRoot: string, stageFiles: string[], config: ChainConfig, configFile: string): ChainModel {
  const stages = new Map<string, { file: string; spec: StageFile }>();
  for (const file of [...stageFiles].sort()) stages.set(stageNameOf(file), { file, spec: loadStage(workspaceRoot, file) });

  // Validate the chain before anything is built: known upstreams first, then no cycles.
  for (const { file, spec } of stages.values()) {
    if (spec.kind === 'dockerfile' && !stages.has(spec.from)) {
      throw new ConfigError(`${file}: from: names no stage "${spec.from}"; stages are: ${[...stages.keys()].join(', ')}`);
    }
  }
  for (const [name, { file, spec }] of stages) {
    const seen = [name];
    for (let cur = spec; cur.kind === 'dockerfile'; cur = stages.get(cur.from)!.spec) {
      if (seen.includes(cur.from)) throw new ConfigError(`${file}: from: the chain loops back (${[...seen, cur.from].join(' -> ')})`);
      seen.push(cur.from);
    }
  }

  const pick = (vars: Variables, names: Iterable<string>) => Object.fromEntries([...new Set(names)].sort().filter((n) => n in vars).map((n) => [n, vars[n]]));
  // The variable names a stage's build renders, with its upstreams' (the chain has no loop: checked above).
  const renderedBy = (stage: string): string[] => {
    const { spec } = stages.get(stage)!;
    return [...ownVariables(spec), ...(spec.kind === 'dockerfile' ? renderedBy(spec.from) : [])];
  };
  const platform = config.docker.platform ?? hostPlatform();
  const registry = config.publish?.registry ?? null;
  const engine: EngineSettings = { client: config.docker.client, network: config.docker.network, builder: config.docker.builder };
  const publishTags = (stage: string, tag: string) =>
    config.publish?.singleRepositoryStages.includes(stage) ? [tag, `${config.publish.singleRepository}:${singleRepositoryTag(stage, tag)}`] : [tag];
  const images: ImageProject[] = [];
  const recipes: RecipeProject[] = [];
  for (const [stage, { file, spec }] of stages) {
    const dir = `images/${stage}`;
    if (spec.kind === 'os') {
      // One OS image per suite the lines name; the default line's is the bare stage name.
      for (const suite of [...new Set(Object.values(config.lines).map((l) => l.os))].sort()) {
        // What debootstrap (or the pull) takes; python3 is only checked by the stages FROM it.
        const { source, variant, mirror, include, image } = config.os[suite];
        const vars = osVariables(config, suite);
        const tag = imageTag(config, stage, vars, configFile);
        const name = osProjectName(config, stage, suite);
        images.push({
          name, root: `${dir}/suites/${suite}`, stage, line: null, suite, stageFile: file, recipe: null, upstream: null, artifactProjects: [],
          build: {
            executor: 'os-image',
            options: {
              stage, labels: labels(config, stage, render(spec.version, vars, `${file}: version`)), platform, os: { source, suite, variant, mirror, include, ...(image === undefined ? {} : { image }) },
              revisionPaths: [dir, configFile], registry, engine,
            },
          },
          tags: [tag],
          publishTags: publishTags(stage, tag),
          buildVariables: pick(vars, renderedBy(stage)),
          release: releaseProjectName(name),
          inputs: [`{workspaceRoot}/${dir}/**/*`, { env: REGISTRY_ENV }],
          containerTests: null,
        });
      }
      continue;
    }
    recipes.push({ name: recipeProjectName(stage), root: dir, stageFile: file });
    for (const line of Object.keys(config.lines).sort()) {
      const vars = lineVariables(config, line);
      const upstreamSpec = stages.get(spec.from)!.spec;
      const upstream = upstreamSpec.kind === 'os' ? osProjectName(config, spec.from, config.lines[line].os) : projectName(spec.from, line, config.defaultLine);
      const name = projectName(stage, line, config.defaultLine);
      const buildArgs: Record<string, string> = {};
      for (const [key, template] of Object.entries(spec.buildArgs)) buildArgs[key] = render(template, vars, `${file}: buildArgs.${key}`);
      const tag = imageTag(config, stage, vars, configFile);
      const lineDir = `${dir}/lines/${line}`;
      const requirementsLock = requirementsLockOf(file, spec, stage, line, lineDir, vars, config, configFile);
      images.push({
        name, root: lineDir, stage, line, suite: config.lines[line].os, stageFile: file, recipe: recipeProjectName(stage), upstream,
        artifactProjects: spec.artifacts.map((a) => a.project),
        build: {
          executor: 'docker-build',
          options: {
            stage, line, dockerfile: join(dir, spec.dockerfile), context: dir, lineDir, upstream, buildArgs,
            artifacts: spec.artifacts, labels: labels(config, stage, render(spec.version, vars, `${file}: version`)), platform, requirementsLock,
            revisionPaths: [dir, `${dir}/lines/${line}`], registry, engine,
          },
        },
        tags: [tag],
        publishTags: publishTags(stage, tag),
        buildVariables: pick(vars, renderedBy(stage)),
        release: releaseProjectName(name),
        inputs: [
          ...contextInputs(workspaceRoot, dir),
          // Other lines' fragments are not in this line's context.
          ...Object.keys(config.lines).filter((l) => l !== line).map((l) => `!{workspaceRoot}/${dir}/lines/${l}/**`),
          `{workspaceRoot}/${lineDir}/**/*`,
          { dependentTasksOutputFiles: `${recordDir(upstream)}/image.id` },
          ...spec.artifacts.map((a) => ({ dependentTasksOutputFiles: a.files })),
          { env: REGISTRY_ENV },
        ],
        containerTests: existsSync(join(workspaceRoot, dir, CONTAINER_TESTS)) ? `${dir}/${CONTAINER_TESTS}` : null,
      });
    }
  }
  const named = new Map<string, string>();
  for (const image of images) {
    const other = named.get(image.tags[0]);
    if (other) {
      throw new ConfigError(`${configFile}: images.${image.stage}.tag gives ${other} and ${image.name} the same name ${image.tags[0]}: make the template tell them apart (e.g. with {suite} or {line})`);
    }
    named.set(image.tags[0], image.name);
  }
  return { images, recipes, engine };
}

/**
 * The lock a stage of a line installs from, with the pins it must hold. Pins reach an image only
 * through its lock, so a stage with pins in the versions file must declare a lock holding all of them.
 */
function requirementsLockOf(
  file: string, spec: DockerfileStage, stage: string, line: string, lineDir: string, vars: Variables, config: ChainConfig, configFile: string,
): RequirementsLockOptions | null {
  const pins = config.lines[line].pins[stage] ?? {};
  if (!spec.requirementsLock) {
    if (Object.keys(pins).length === 0) return null;
    throw new ConfigError(
      `${file}: ${configFile} pins packages for this stage (lines.${line}.pins.${stage}) but the stage declares no lock: add ` +
        `"requirementsLock": { "requirements": ["{pins.${stage}}"] }, run \`${LOCK_COMMAND}\` and install ${REQUIREMENTS_LOCK} in its Dockerfile`,
    );
  }
  const where = `${file}: requirementsLock.requirements`;
  const requirements = parseRequirementList(spec.requirementsLock.requirements.map((t, i) => render(t, vars, `${where}.${i}`)), where);
  for (const [pkg, version] of Object.entries(pins)) {
    if (requirements[normalizeName(pkg)] !== version) {
      throw new ConfigError(`${where}: lines.${line}.pins.${stage}.${pkg} (${version}) is not among the pins the lock holds; add "{pins.${stage}}"`);
    }
  }
  return { file: `${lineDir}/${REQUIREMENTS_LOCK}`, pinnedIn: configFile, requirements };
}

function labels(config: ChainConfig, stage: string, version: string): Record<string, string> {
  return {
    'org.opencontainers.image.source': config.source,
    'org.opencontainers.image.title': stage,
    'org.opencontainers.image.version': version,
  };
}
