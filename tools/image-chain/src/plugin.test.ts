// What the plugin tells Nx about the fixture workspace: projects, targets (options, inputs, edges).
import type { CreateDependenciesContext, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { globSync } from 'tinyglobby';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_PREFIX, fixtureWorkspace, type FixtureWorkspace } from '../test/fixture-workspace';
import { OPTIONS_ENV } from './command';
import { hostPlatform } from './model';
import { CONTAINER_TEST, createDependencies, createNodes, DOCKER_BUILD, DOCKER_PUSH, WHEEL_TARGET } from './plugin';

const OPTIONS = { config: 'images/versions.json' };
const CODE = '{workspaceRoot}/tools/image-chain';
const IMAGES = ['os', 'base', 'final', 'extension'];

let ws: FixtureWorkspace;
let nodes: Awaited<ReturnType<(typeof createNodes)[1]>>;
/** Every project createNodes made, keyed by name (Nx takes a Python package's name from its project.json). */
let projects: Record<string, ProjectConfiguration>;

beforeAll(async () => {
  ws = fixtureWorkspace();
  const files = globSync(createNodes[0], { cwd: ws.dir }).sort();
  nodes = await createNodes[1](files, OPTIONS, { workspaceRoot: ws.dir, nxJsonConfiguration: {} });
  projects = {};
  for (const [, result] of nodes) {
    for (const [root, project] of Object.entries(result.projects ?? {})) {
      const name = project.name ?? JSON.parse(readFileSync(join(ws.dir, root, 'project.json'), 'utf8')).name;
      projects[name] = { ...project, root, name };
    }
  }
});
afterAll(() => ws.remove());

/**
 * The result as the snapshot holds it: the temp folder and the host's platform (the only things
 * that differ between machines) replaced, and each target's code inputs named by their executor
 * rather than listed, so that an import added to an executor does not change this snapshot (the
 * tests below and code-inputs.test.ts check the lists).
 */
function portable(value: unknown): unknown {
  const text = JSON.stringify(value).replaceAll(ws.dir, '<workspace>').replaceAll(hostPlatform(), '<host platform>');
  return JSON.parse(text, (_key, v: unknown) => (Array.isArray(v) ? withCodeNamed(v) : v));
}

function withCodeNamed(inputs: unknown[]): unknown[] {
  const entry = inputs.find((i): i is string => typeof i === 'string' && i.startsWith(`${CODE}/executors/`));
  if (!entry) return inputs;
  const isCode = (i: unknown) => (typeof i === 'string' && i.startsWith(`${CODE}/`)) || (typeof i === 'object' && i !== null && 'externalDependencies' in i);
  return [...inputs.filter((i) => !isCode(i)), `<the code of ${basename(entry, '.js')}>`];
}

interface FoundTarget {
  project: string;
  name: string;
  config: TargetConfiguration;
}

function target(project: string, name: string): FoundTarget {
  const config = projects[project]?.targets?.[name];
  if (!config) throw new Error(`no target ${project}:${name}`);
  return { project, name, config };
}

/** An image's docker-push, found by what it writes (whichever project holds it). */
function pushOf(image: string): FoundTarget {
  for (const [project, p] of Object.entries(projects)) {
    const config = p.targets?.[DOCKER_PUSH];
    if (config?.outputs?.includes(`{workspaceRoot}/dist/pushes/${image}`)) return { project, name: DOCKER_PUSH, config };
  }
  throw new Error(`no docker-push target publishes ${image}`);
}

/** The executor options a target carries (resolved at graph time, hashed by Nx). */
const optionsOf = (t: FoundTarget): Record<string, unknown> => JSON.parse(t.config.options.env[OPTIONS_ENV]);
const fileInputs = (t: FoundTarget) => (t.config.inputs ?? []).filter((i): i is string => typeof i === 'string');

/** The tasks a target depends on, as "project:target" ("^" entries as written). */
function dependsOnTasks(t: FoundTarget): string[] {
  return (t.config.dependsOn ?? []).flatMap((d) => {
    if (typeof d === 'string') return [d.startsWith('^') ? d : `${t.project}:${d}`];
    return (d.projects as string[] | undefined ?? [t.project]).map((p) => `${p}:${d.target}`);
  });
}

describe('createNodes on the fixture workspace', () => {
  it('infers the projects and targets it did before (snapshot)', () => {
    expect(portable(nodes)).toMatchSnapshot();
  });

  it('makes an image project per stage and line, a recipe project per Dockerfile stage, and the wheel project', () => {
    expect(Object.keys(projects)).toEqual(expect.arrayContaining([...IMAGES, 'base-dockerfile', 'final-dockerfile', 'extension-dockerfile', 'demo']));
    for (const image of IMAGES) expect(projects[image].targets?.[DOCKER_BUILD], image).toBeDefined();
    expect(projects.extension.targets?.[CONTAINER_TEST]).toBeDefined();
    expect(projects.base.targets?.[CONTAINER_TEST]).toBeUndefined();
    expect(Object.keys(projects.demo.targets!)).toEqual([WHEEL_TARGET]);
  });

  // Nx hashes the options of every target of a project into each of its tasks.
  it('puts no tag or repository name in any target of an image project, so names are never part of an image key', () => {
    for (const image of IMAGES) {
      const tags = optionsOf(pushOf(image)).tags as string[];
      expect(tags.length, image).toBeGreaterThan(0);
      for (const [name, config] of Object.entries(projects[image].targets ?? {})) {
        const options = JSON.stringify(config.options);
        expect(options, `${image}:${name}`).not.toContain(FIXTURE_PREFIX);
        for (const tag of tags) expect(options, `${image}:${name}`).not.toContain(tag);
      }
    }
  });

  it('gives docker-push every tag to publish, the single-repository one included', () => {
    expect(optionsOf(pushOf('extension')).tags).toEqual([`${FIXTURE_PREFIX}-extension:2.5.0-2-cpu-py3`, `${FIXTURE_PREFIX}-single:extension-2.5.0-2-cpu-py3`]);
    expect(optionsOf(pushOf('base')).tags).toEqual([`${FIXTURE_PREFIX}-base:1.4-2-cpu-py3`]);
    expect(optionsOf(pushOf('os')).tags).toEqual([`${FIXTURE_PREFIX}-os:bookworm`]);
  });

  it('publishes only after the image is built and its container tests passed', () => {
    expect(dependsOnTasks(pushOf('extension'))).toEqual(expect.arrayContaining([`extension:${DOCKER_BUILD}`, `extension:${CONTAINER_TEST}`]));
    expect(dependsOnTasks(pushOf('base'))).toEqual(expect.arrayContaining([`base:${DOCKER_BUILD}`]));
    expect(pushOf('final').config.inputs).toContainEqual({ dependentTasksOutputFiles: 'dist/images/final/image.id' });
  });

  it('makes the code a target runs one of its inputs, and only that code', () => {
    const build = fileInputs(target('base', DOCKER_BUILD));
    expect(build).toEqual(expect.arrayContaining([`${CODE}/run.js`, `${CODE}/src/run.ts`, `${CODE}/src/executors/docker-build.ts`, `${CODE}/src/lifecycle.ts`, `${CODE}/executors/docker-build.js`]));
    expect(build).not.toContain(`${CODE}/src/executors/python-wheel.ts`);
    expect(build).not.toContain(`${CODE}/src/plugin.ts`);

    expect(fileInputs(target('os', DOCKER_BUILD))).toContain(`${CODE}/src/executors/os-image.ts`);
    expect(fileInputs(target('os', DOCKER_BUILD))).not.toContain(`${CODE}/src/executors/docker-build.ts`);

    const wheel = fileInputs(target('demo', WHEEL_TARGET));
    expect(wheel).toContain(`${CODE}/src/executors/python-wheel.ts`);
    expect(wheel).not.toContain(`${CODE}/src/executors/docker-build.ts`);
    expect(wheel).not.toContain(`${CODE}/src/lifecycle.ts`);

    expect(fileInputs(target('extension', CONTAINER_TEST))).toContain(`${CODE}/src/executors/container-test.ts`);
    expect(fileInputs(pushOf('extension'))).toContain(`${CODE}/src/executors/docker-push.ts`);
    expect(fileInputs(pushOf('extension'))).not.toContain(`${CODE}/src/executors/docker-build.ts`);
    expect(projects.demo.namedInputs!['image-chain-python-module']).toContain(`${CODE}/src/executors/python-module.ts`);
  });

  it('names the npm packages the code imports as external dependencies', () => {
    const external = target('base', DOCKER_BUILD).config.inputs!.find((i) => typeof i === 'object' && 'externalDependencies' in i);
    expect(external).toEqual({ externalDependencies: expect.arrayContaining(['dockerfile-ast', 'execa', 'zod']) });
  });

  it('keys an image on its upstream image ID and its artifacts, through the tasks that made them', () => {
    const final = target('final', DOCKER_BUILD);
    expect(final.config.inputs).toEqual(expect.arrayContaining([
      { dependentTasksOutputFiles: 'dist/images/base/image.id' },
      { dependentTasksOutputFiles: 'packages/demo/dist/*.whl' },
    ]));
    expect(dependsOnTasks(final)).toEqual([`^${DOCKER_BUILD}`, `demo:${WHEEL_TARGET}`]);
  });
});

describe('createDependencies on the fixture workspace', () => {
  const context = (): CreateDependenciesContext => ({
    workspaceRoot: ws.dir,
    nxJsonConfiguration: {},
    projects: Object.fromEntries(Object.entries(projects).map(([name, p]) => [name, { root: p.root }])),
    externalNodes: {},
    fileMap: { projectFileMap: {}, nonProjectFiles: [] },
    filesToProcess: { projectFileMap: {}, nonProjectFiles: [] },
  });

  it('draws the chain as project edges: upstream, recipe, artifacts (snapshot)', async () => {
    const edges = await createDependencies(OPTIONS, context());
    expect(portable(edges)).toMatchSnapshot();
    expect(edges.every((e) => e.type === 'implicit' && context().projects[e.source] && context().projects[e.target])).toBe(true);
    expect(edges.map((e) => `${e.source} -> ${e.target}`)).toEqual(expect.arrayContaining([
      'base -> os', 'base -> base-dockerfile',
      'final -> base', 'final -> final-dockerfile', 'final -> demo',
      'extension -> final', 'extension -> extension-dockerfile',
    ]));
  });

  it('refuses an artifact that names no project, naming the stage file', async () => {
    const { demo: _demo, ...withoutDemo } = context().projects;
    await expect(async () => createDependencies(OPTIONS, { ...context(), projects: withoutDemo })).rejects.toThrow(
      /images\/final\/stage\.json: artifacts: names no Nx project "demo"/,
    );
  });
});
