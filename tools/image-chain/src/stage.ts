// A stage file (images/<stage>/stage.json) says how one image is made: what it builds FROM,
// which build args it takes from the versions file, which other projects' outputs enter its context.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as z from 'zod/mini';
import './zod-messages';
import { ConfigError, describeIssues } from './config';

const STAGE_NAME = /^[a-z][a-z0-9-]*$/;

const artifact = z.strictObject({
  project: z.string({ error: 'must name the Nx project whose output enters the build context' }),
  target: z._default(z.string(), 'build'),
  files: z.string({ error: 'must be a workspace-relative glob of the files to copy, e.g. "packages/x/dist/*.whl"' }),
  into: z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/, { error: 'must be a folder name inside the build context, e.g. "wheels"' })),
});

export const stageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    $schema: z.optional(z.string()),
    kind: z.literal('os'),
    description: z.optional(z.string()),
    version: z._default(z.string(), '{suite}'),
  }),
  z.strictObject({
    $schema: z.optional(z.string()),
    kind: z.literal('dockerfile'),
    description: z.optional(z.string()),
    from: z.string({ error: 'must name the upstream stage this image builds FROM, e.g. "base"' })
      .check(z.regex(STAGE_NAME, { error: 'must be a stage name (a folder under images/)' })),
    dockerfile: z._default(z.string(), 'Dockerfile'),
    // The OCI version label, rendered from the line's variables (never from a tag: names are not identity).
    version: z._default(z.string(), '{line}'),
    buildArgs: z._default(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a Dockerfile ARG name' })), z.string()), {}),
    artifacts: z._default(z.array(artifact), []),
    // The pins the stage installs, from lines/<line>/requirements.lock (written by `npm run lock`).
    requirementsLock: z.optional(z.strictObject({
      requirements: z.array(z.string(), { error: 'must be a list of templates rendering exact pins, e.g. ["{pins.base}"]' })
        .check(z.minLength(1, { error: 'must name the pins the lock holds, e.g. ["{pins.base}"]' })),
    }, { error: 'must be {"requirements": ["{pins.<stage>}", ...]}: the pins the stage installs from its lock' })),
  }),
], { error: 'must have "kind": "dockerfile" (built from a Dockerfile) or "os" (the OS layer)' });

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
