// The executors' options: one zod schema per executor. The plugin resolves them once at graph
// time (so `nx show project` shows them and Nx hashes them), the command boundary parses them
// once (run.ts), refusing unknown or missing fields, and `npm run generate` writes the JSON
// schemas Nx reads (schemas/*.json) and the reference (docs/reference.md) from these.
import * as z from 'zod/mini';
import './zod-messages';
import { describeIssues } from './config';

const describe = (text: string) => z.describe(text);
const text = (what: string) => z.string().check(describe(what));

const engine = z.strictObject({
  client: text('The Docker client binary (docker.client in the versions file).'),
  network: z.enum(['host', 'default', 'none']).check(describe('The network RUN steps use (docker.network).')),
  builder: z.enum(['buildkit', 'classic']).check(describe('What builds Dockerfile stages (docker.builder).')),
}).check(describe('The engine settings, resolved from the versions file\'s "docker" section.'));

const registry = z.nullable(text('publish.registry; IMAGE_CHAIN_REGISTRY (an env input of the target) overrides it at run time.'))
  .check(describe('Where images travel by digest; null for none.'));

const labels = z.record(z.string(), z.string()).check(describe('OCI labels written into the image (from the line\'s variables, never from tags).'));

const commonImage = {
  stage: text('The stage name (the folder under images/).'),
  labels,
  platform: text('The platform built for, e.g. "linux/amd64" (docker.platform, else the host\'s).'),
  revisionPaths: z.array(z.string()).check(describe('Workspace paths whose last commit is the image\'s revision label.')),
  registry,
  engine,
};

export const dockerBuildOptions = z.strictObject({
  ...commonImage,
  line: z.nullable(text('The version line this image belongs to.')),
  dockerfile: text('Workspace-relative Dockerfile.'),
  context: text('Workspace-relative build context folder (the stage folder).'),
  lineDir: z.nullable(text('The line\'s folder merged over the context (lines/<line>).')),
  upstream: text('The project whose recorded image this stage builds FROM.'),
  buildArgs: z.record(z.string(), z.string()).check(describe('Rendered build args of the stage file.')),
  artifacts: z.array(z.strictObject({
    project: text('The project whose output is copied.'),
    target: text('Its target that makes the output.'),
    files: text('Workspace-relative glob of the files.'),
    into: text('The folder in the build context they go to.'),
  })).check(describe('Other projects\' outputs copied into the context (the stage file\'s "artifacts").')),
  requirementsLock: z.nullable(z.strictObject({
    file: text('Workspace-relative path of the lock.'),
    pinnedIn: text('The versions file the pins come from (for messages).'),
    requirements: z.record(z.string(), z.string()).check(describe('Normalized package name to exact version.')),
  })).check(describe('The lock the stage installs from and the pins it must hold; checked before building.')),
}).check(describe('Inferred from images/<stage>/stage.json and the versions file; do not set by hand.'));

export const osImageOptions = z.strictObject({
  ...commonImage,
  os: z.strictObject({
    source: z.enum(['debootstrap', 'registry']).check(describe('Bootstrap from Debian\'s archive, or pull a pinned image.')),
    suite: text('The Debian suite.'),
    variant: z.enum(['minbase', 'buildd', 'fakechroot']).check(describe('The debootstrap variant.')),
    mirror: text('The Debian mirror.'),
    include: z.array(z.string()).check(describe('Extra Debian packages to bootstrap.')),
    image: z.optional(text('The image pinned by digest, for source "registry".')),
  }).check(describe('The versions file\'s "os" section.')),
}).check(describe('Inferred for the OS stage from the versions file; do not set by hand.'));

export const containerTestOptions = z.strictObject({
  tests: text('Workspace-relative folder of the stage\'s pytest files.'),
  variables: z.record(z.string(), z.string()).check(describe('The line\'s variables, given to the tests as CHAIN_<NAME>.')),
  python: text('The Python that runs pytest: a workspace-relative path, or a name looked up on PATH.'),
  engine,
}).check(describe('Inferred for stages with a container-test folder; do not set by hand.'));

export const dockerPushOptions = z.strictObject({
  image: text('The image project whose recorded image is published.'),
  stage: text('The stage name.'),
  registry,
  tags: z.array(z.string()).check(describe('Every "repository:tag" this target publishes, the single-repository tag included.')),
  engine,
}).check(describe('Inferred from the versions file\'s "images" and "publish" sections; do not set by hand.'));

export const pythonWheelOptions = z.strictObject({
  python: z._default(text('The Python that runs `python -m build`.'), 'python3'),
  outputPath: z._default(text('Where the wheel goes, relative to the project root.'), 'dist'),
}).check(describe('Builds a reproducible wheel of a Python project (inferred for packages/*/pyproject.toml).'));

export const pythonModuleOptions = z.strictObject({
  runs: z.array(z.array(z.string())).check(describe('Each entry is one `python -m <args...>`, run in order in the project folder.')),
  python: z._default(text('The Python to run.'), 'python3'),
}).check(describe('Runs Python modules (pytest, ruff) in a project\'s folder.'));

export const EXECUTOR_OPTIONS = {
  'docker-build': dockerBuildOptions,
  'os-image': osImageOptions,
  'container-test': containerTestOptions,
  'docker-push': dockerPushOptions,
  'python-wheel': pythonWheelOptions,
  'python-module': pythonModuleOptions,
} as const;

export type ExecutorName = keyof typeof EXECUTOR_OPTIONS;
export type DockerBuildOptions = z.output<typeof dockerBuildOptions>;
export type OsImageOptions = z.output<typeof osImageOptions>;
export type ContainerTestOptions = z.output<typeof containerTestOptions>;
export type DockerPushOptions = z.output<typeof dockerPushOptions>;
export type PythonWheelOptions = z.output<typeof pythonWheelOptions>;
export type PythonModuleOptions = z.output<typeof pythonModuleOptions>;
export type EngineSettings = z.output<typeof engine>;

export class OptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionsError';
  }
}

/** Parses a target's options for `executor`; `where` names the target for the message. */
export function parseOptions<E extends ExecutorName>(executor: E, raw: unknown, where: string): z.output<(typeof EXECUTOR_OPTIONS)[E]> {
  const result = EXECUTOR_OPTIONS[executor].safeParse(raw);
  if (!result.success) throw new OptionsError(describeIssues(`${where} (options of the ${executor} executor)`, result.error));
  return result.data as z.output<(typeof EXECUTOR_OPTIONS)[E]>;
}
