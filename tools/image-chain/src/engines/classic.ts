// The classic builder (DOCKER_BUILDKIT=0), which Docker deprecated: kept for engines without
// BuildKit. It takes FROM by image ID, which pins the upstream exactly. It cannot mount anything
// into a RUN step, so a Dockerfile's cache and secret mounts are dropped before it builds (a cache
// mount never changes what a step leaves in its layer, and a secret mount with no secret given is
// absent under BuildKit too); a build that needs a secret is refused, never done by leaving the
// secret in the image.
import { DockerfileParser } from 'dockerfile-ast';
import { readFileSync, writeFileSync } from 'node:fs';
import { BuildError, type BuildOptions } from './engine';
import { DockerEngine } from './docker';
import { buildFailure } from './failures';
import { runMounts } from '../dockerfile';
import { UPSTREAM_ARG } from '../stage';

/** The client's arguments and environment for a build. No tag: the image is known by its ID until the run ends. */
export function classicBuildArgs(options: BuildOptions, iidFile: string): { args: string[]; env: Record<string, string> } {
  const args = ['build', '--force-rm', '--iidfile', iidFile, '-f', options.dockerfile];
  if (options.noCache) args.push('--no-cache');
  if (options.network !== 'default') args.push('--network', options.network);
  if (options.platform) args.push('--platform', options.platform);
  for (const [key, value] of Object.entries({ [UPSTREAM_ARG]: options.upstream, ...options.buildArgs })) args.push('--build-arg', `${key}=${value}`);
  args.push(options.context);
  return { args, env: { DOCKER_BUILDKIT: '0' } };
}

/** Mount types whose removal leaves a step's result as it is. */
const DROPPABLE_MOUNTS = new Set(['cache', 'secret']);

/**
 * The Dockerfile as the classic builder can read it: RUN's cache and secret mounts removed.
 * Any other mount (a bind from another stage, say) changes what the step sees: refused.
 */
export function classicDockerfile(text: string, file: string): string {
  const lines = text.split('\n');
  const cuts: { line: number; start: number; end: number }[] = [];
  for (const { type, range: { start, end } } of runMounts(DockerfileParser.parse(text))) {
    if (!DROPPABLE_MOUNTS.has(type)) {
      throw new BuildError(`${file}:${start.line + 1}: "RUN --mount=type=${type}" needs BuildKit; set "docker.builder" to "buildkit" in images/versions.json (and install docker-buildx)`, null);
    }
    if (start.line !== end.line) throw new BuildError(`${file}:${start.line + 1}: write each RUN --mount flag on one line`, null);
    cuts.push({ line: start.line, start: start.character, end: end.character });
  }
  // Right to left, so that earlier cuts on a line keep their positions.
  for (const cut of cuts.sort((a, b) => b.line - a.line || b.start - a.start)) {
    const line = lines[cut.line];
    lines[cut.line] = line.slice(0, cut.start) + line.slice(cut.end).replace(/^[ \t]+/, '');
  }
  return lines.join('\n');
}

/** The classic builder's step lines ("Step 3/7 : RUN ..."), which failure reports name. */
const STEP = /^Step \d+\/\d+ : /;

export class ClassicEngine extends DockerEngine {
  async build(options: BuildOptions): Promise<string> {
    if (Object.keys(options.secrets ?? {}).length) {
      throw new BuildError(
        `the classic builder cannot give a build secrets (${Object.keys(options.secrets!).join(', ')}) without leaving them in the image. Build with BuildKit ("docker.builder": "buildkit" in images/versions.json, with docker-buildx installed), or turn the extra CA certificates off with IMAGE_CHAIN_BUILD_CA=none`,
        null,
      );
    }
    writeFileSync(options.dockerfile, classicDockerfile(readFileSync(options.dockerfile, 'utf8'), options.dockerfile));
    const iidFile = `${options.dockerfile}.iid`;
    const { args, env } = classicBuildArgs(options, iidFile);
    const { result, tail, steps } = await this.streamed(args, { env, signal: options.signal, step: STEP });
    const lastStep = steps.at(-1) ?? null;
    if (result.isCanceled) throw new BuildError('the build was interrupted (SIGINT/SIGTERM)', lastStep);
    if (result.exitCode !== 0) throw buildFailure(this.client, tail, lastStep, result.exitCode);
    return readFileSync(iidFile, 'utf8').trim();
  }
}
