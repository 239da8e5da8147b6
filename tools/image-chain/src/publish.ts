// Images travel between machines through a registry, by digest (the rules_oci way): a build
// pushes its image under a content-addressed tag in a repository named after its stage (never
// after a release name: names are not part of an image's key) and records the manifest digest;
// publishing (docker-push, after the container tests) then points the release tags at that digest.
import type { ContainerEngine } from './engines/engine';
import type { ImageRecord } from './record';
import { contentTag, untagKeepingImage } from './scaffold-tags';

/** Pushes the image by its content tag; returns "registry/stage@sha256:..." */
export async function pushByDigest(engine: ContainerEngine, registry: string, imageId: string, stage: string): Promise<string> {
  const ref = contentTag(registry, stage, imageId);
  await engine.tag(imageId, ref);
  try {
    const digest = await engine.push(ref);
    return `${registry}/${stage}@${digest}`;
  } finally {
    await untagKeepingImage(engine, ref);
  }
}

/** Points release tags in the registry at the recorded image; returns "ref -> digest" lines. */
export async function publishTags(engine: ContainerEngine, registry: string, record: ImageRecord, tags: string[]): Promise<{ ref: string; digest: string }[]> {
  // Every tag must name the very manifest the build recorded (same image, same digest). Checked
  // after each push, so that no further tag is published once one has gone astray.
  const recorded = new Set(record.pushed.map((p) => p.slice(p.indexOf('@') + 1)));
  const published: { ref: string; digest: string }[] = [];
  for (const tag of tags) {
    const ref = `${registry}/${tag}`;
    await engine.tag(record.image, ref);
    let digest: string;
    try {
      digest = await engine.push(ref);
    } finally {
      await untagKeepingImage(engine, ref);
    }
    if (recorded.size > 0 && !recorded.has(digest)) {
      throw new Error(`${record.project}: ${ref} got ${digest}, not the recorded ${[...recorded].join(', ')}`);
    }
    published.push({ ref, digest });
  }
  return published;
}
