// BuildKit through the client's buildx plugin, on the engine's own (docker driver) builder, so
// images land in the engine's store. BuildKit cannot build FROM an image ID (moby/buildkit#2204):
// the upstream gets a name derived from its full ID (scaffold-tags.ts; taken off when the run's
// tags are applied), and the layers check (lifecycle.ts) proves the result extends exactly that
// image. Secrets reach only the RUN steps
// that mount them. Where the client has no buildx, builds fall back to the classic builder with
// a warning.
import { readFileSync } from 'node:fs';
import { BuildError, EngineError, type BuildOptions } from './engine';
import { ClassicEngine } from './classic';
import { DockerEngine } from './docker';
import { buildKitFailure, BUILDKIT_STEP } from './failures';
import { upstreamTag } from '../scaffold-tags';
import { UPSTREAM_ARG } from '../stage';

/** The client's arguments for a build: untagged, no attestations (they would record the host), the image's digest in metadataFile. */
export function buildKitBuildArgs(options: BuildOptions, from: string, metadataFile: string): string[] {
  const args = ['buildx', 'build', '--progress', 'plain', '--provenance=false', '--sbom=false', '--metadata-file', metadataFile, '-f', options.dockerfile];
  if (options.noCache) args.push('--no-cache');
  if (options.network !== 'default') args.push('--network', options.network);
  if (options.platform) args.push('--platform', options.platform);
  for (const [key, value] of Object.entries({ [UPSTREAM_ARG]: from, ...options.buildArgs })) args.push('--build-arg', `${key}=${value}`);
  for (const [id, file] of Object.entries(options.secrets ?? {})) args.push('--secret', `id=${id},src=${file}`);
  args.push(options.context);
  return args;
}

/**
 * The image's ID from buildx's metadata: "containerimage.digest" is the ID in either image store
 * (the config digest in overlay2, the manifest digest in the containerd store; the iid file gives
 * the config digest in both).
 */
export function builtImageId(metadata: Record<string, unknown>): string | null {
  const digest = metadata['containerimage.digest'];
  return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : null;
}

export class BuildKitEngine extends DockerEngine {
  private buildx?: Promise<boolean>;

  async build(options: BuildOptions): Promise<string> {
    // Asked once per process.
    this.buildx ??= this.run(['buildx', 'version']).then((r) => r.exitCode === 0);
    if (!(await this.buildx)) {
      console.warn(`WARNING: "${this.client} buildx" is not installed, so this build uses the classic builder, which Docker deprecated. Install docker-buildx (bash tools/setup.sh on Debian), or set "docker.builder" to "classic" in images/versions.json to say so.`);
      return new ClassicEngine(this.client, this.network).build(options);
    }
    const from = upstreamTag(options.upstream);
    await this.tag(options.upstream, from);
    const metadataFile = `${options.dockerfile}.metadata.json`;
    const { result, tail, steps } = await this.streamed(buildKitBuildArgs(options, from, metadataFile), { signal: options.signal, step: BUILDKIT_STEP });
    if (result.isCanceled) throw new BuildError('the build was interrupted (SIGINT/SIGTERM)', steps.at(-1) ?? null);
    if (result.exitCode !== 0) throw buildKitFailure(this.client, tail, steps, result.exitCode);
    const image = builtImageId(JSON.parse(readFileSync(metadataFile, 'utf8')));
    if (!image) {
      throw new EngineError(`"${this.client} buildx build" did not put the image into the engine's store: the current buildx builder must be the engine's own ("${this.client} buildx use default")`);
    }
    return image;
  }
}
