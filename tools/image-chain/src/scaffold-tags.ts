// Names the chain puts on an image only while a step needs one: BuildKit's FROM (it cannot build
// FROM an image ID) and a push (a push needs a tag). Docker deletes an image together with its
// last tag, and chain images carry no tag until the run ends, so such a name is taken off only
// where the image keeps another; the rest go when the run's tags are applied (tagging.ts).
import type { ImageInfo } from './engines/engine';

const UPSTREAM_REPOSITORY = 'image-chain-upstream';

/** A build's name for its upstream: the full ID, and a nonce so that no other build takes it off. */
export function upstreamTag(imageId: string, nonce: string): string {
  return `${UPSTREAM_REPOSITORY}:${imageId.replace(/^sha256:/, '')}-${nonce}`;
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

/** Takes `ref` off its image unless it is the image's last tag (the image would go with it). */
export async function untagKeepingImage(engine: Untagger, ref: string): Promise<void> {
  const tags = (await engine.inspect([ref])).get(ref)?.RepoTags ?? [];
  if (tags.length > 1) await engine.removeTag(ref);
}
