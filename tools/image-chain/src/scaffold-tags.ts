// Names the chain puts on an image only while a step needs one: BuildKit's FROM (it cannot build
// FROM an image ID) and a push (a push needs a tag). Docker deletes an image together with its
// last tag, and chain images carry no tag until the run ends. A push's name is taken off at once
// where the image keeps another name (one build pushes one image). A build's upstream name is
// shared by the builds FROM that image, which may run at once, so it stays until the run's tags
// are applied (tagging.ts): taking it off in one build could take the image's last name away
// while another build removes its own.
import type { ImageInfo } from './engines/engine';

const UPSTREAM_REPOSITORY = 'image-chain-upstream';

/** The name builds FROM an image give it: its full ID, so it never names other content. */
export function upstreamTag(imageId: string): string {
  return `${UPSTREAM_REPOSITORY}:${imageId.replace(/^sha256:/, '')}`;
}

/** The tag a build pushes under: derived from the image ID, so it never moves to other content. */
export function contentTag(registry: string, stage: string, imageId: string): string {
  return `${registry}/${stage}:${imageId.replace(':', '-')}`;
}

const SCAFFOLD = new RegExp(`^${UPSTREAM_REPOSITORY}:|:sha256-[0-9a-f]{64}$`);

export function isScaffoldTag(tag: string): boolean {
  return SCAFFOLD.test(tag);
}

/** What taking a name off asks of an engine. */
export interface Untagger {
  inspect(refs: string[]): Promise<Map<string, ImageInfo>>;
  removeTag(ref: string): Promise<void>;
}

/** The repository of "repo:tag" or "repo@digest" (a registry's port is not a tag). */
function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * Takes `ref` off its image unless the image would go with it: Docker deletes an image with its
 * last name, a tag or a digest reference in another repository (those in the same repository go
 * with the tag).
 */
export async function untagKeepingImage(engine: Untagger, ref: string): Promise<void> {
  const info = (await engine.inspect([ref])).get(ref);
  if (!info) return;
  const repository = repositoryOf(ref);
  const others = [...(info.RepoTags ?? []).filter((t) => t !== ref), ...(info.RepoDigests ?? []).filter((d) => repositoryOf(d) !== repository)];
  if (others.length > 0) await engine.removeTag(ref);
}
