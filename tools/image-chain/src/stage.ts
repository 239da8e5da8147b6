// A stage file (images/<stage>/stage.json) says how one image is made: what it builds FROM,
// which build args it takes from the versions file, which other projects' outputs enter its context.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as z from 'zod/mini';
import './zod-messages';
import { ConfigError, describeIssues } from './config';

const STAGE_NAME = /^[a-z][a-z0-9-]*$/;

const artifact = z.strictObject({
  project: z.string({ error: 'must name the Nx project whose output enters the build context' })
    .check(z.describe('The Nx project whose output enters the build context; an edge of the project graph.')),
  target: z._default(z.string(), 'build').check(z.describe('Its target that makes the files; the build depends on that task.')),
  files: z.string({ error: 'must be a workspace-relative glob of the files to copy, e.g. "packages/x/dist/*.whl"' })
    .check(z.describe('Workspace-relative glob of the files to copy; the files are inputs of the build\'s cache key.')),
  into: z.string().check(
    z.regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a folder name inside the build context, e.g. "wheels"' }),
    z.describe('The folder inside the build context the files are copied into.'),
  ),
}).check(z.describe('Files of another project\'s output, copied into the build context.'));

const schemaField = z.optional(z.string()).check(z.describe('A JSON schema for editors; the chain does not read it.'));
const descriptionField = z.optional(z.string()).check(z.describe('What the stage is for, for readers; the chain does not read it.'));

export const stageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    $schema: schemaField,
    kind: z.literal('os').check(z.describe('The OS layer: made by the os-image executor from the versions file\'s "os" section; no Dockerfile, no upstream.')),
    description: descriptionField,
    version: z._default(z.string(), '{suite}').check(z.describe('Template of the image\'s org.opencontainers.image.version label; it may use {suite} and {variant}.')),
  }),
  z.strictObject({
    $schema: schemaField,
    kind: z.literal('dockerfile').check(z.describe('An image built from a Dockerfile FROM another stage\'s image, once per version line.')),
    description: descriptionField,
    from: z.string({ error: 'must name the upstream stage this image builds FROM, e.g. "base"' })
      .check(
        z.regex(STAGE_NAME, { error: 'must be a stage name (a folder under images/)' }),
        z.describe('The upstream stage this image builds FROM (its project of the same line, or the shared OS stage). Its image ID reaches the Dockerfile as the UPSTREAM build arg.'),
      ),
    dockerfile: z._default(z.string(), 'Dockerfile').check(z.describe('The Dockerfile, relative to the stage folder. It must declare ARG UPSTREAM (no default) before its first FROM and build FROM ${UPSTREAM}.')),
    version: z._default(z.string(), '{line}')
      .check(z.describe('Template of the org.opencontainers.image.version label, rendered from the line\'s variables (never from a tag: names are not identity).')),
    buildArgs: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a Dockerfile ARG name' })), z.string()), {})
      .check(z.describe('Build args: ARG name to a template rendered from the line\'s variables, e.g. "{sklearn}". UPSTREAM is the chain\'s own and refused here.')),
    artifacts: z._default(z.array(artifact), []).check(z.describe('Other projects\' outputs copied into the build context (the wheel for final).')),
    requirementsLock: z.optional(z.strictObject({
      requirements: z.array(z.string(), { error: 'must be a list of templates rendering exact pins, e.g. ["{pins.base}"]' })
        .check(
          z.minLength(1, { error: 'must name the pins the lock holds, e.g. ["{pins.base}"]' }),
          z.describe('Templates rendering the exact pins the lock holds, e.g. ["{pins.base}"]; every pin the versions file gives this stage must be among them.'),
        ),
    }, { error: 'must be {"requirements": ["{pins.<stage>}", ...]}: the pins the stage installs from its lock' }))
      .check(z.describe('The stage installs Python packages from lines/<line>/requirements.lock (written by `npm run lock`), checked against these pins before building. Needed when the line pins packages for this stage.')),
  }),
], { error: 'must have "kind": "dockerfile" (built from a Dockerfile) or "os" (the OS layer)' })
  .check(z.describe('It says how one stage\'s image is made: FROM which stage, with which build args, lock and artifacts.'));

export type StageFile = z.infer<typeof stageSchema>;
export type DockerfileStage = Extract<StageFile, { kind: 'dockerfile' }>;

/** Where stage files are, relative to the workspace root. */
export const STAGE_GLOB = 'images/*/stage.json';

/** The build arg through which every Dockerfile receives its upstream image ID. */
export const UPSTREAM_ARG = 'UPSTREAM';

export function stageNameOf(stageFile: string): string {
  return basename(dirname(stageFile));
}

export function parseStage(raw: unknown, file: string): StageFile {
  const name = stageNameOf(file);
  if (!STAGE_NAME.test(name)) {
    throw new ConfigError(`${file}: the folder name "${name}" is not a valid stage name (lowercase letters, digits, dashes)`);
  }
  const result = stageSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(file, result.error));
  if (result.data.kind === 'dockerfile' && UPSTREAM_ARG in result.data.buildArgs) {
    throw new ConfigError(`${file}: buildArgs.${UPSTREAM_ARG} is set by the chain (the upstream image ID); remove it`);
  }
  return result.data;
}

export function loadStage(workspaceRoot: string, file: string): StageFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(`${workspaceRoot}/${file}`, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseStage(raw, file);
}
