// Images travel between machines through a registry, by digest (the rules_oci way): a build
// pushes its image under a content-addressed tag and records the manifest digest; publishing
// (docker-push, after the container tests) then points the release tags at that same digest.
import type { Engine } from './engine';
import type { ImageRecord } from './record';

export function repositoryOf(tag: string): string {
  return tag.slice(0, tag.lastIndexOf(':'));
}

/** The tag a build pushes under: derived from the image ID, so it never moves to other content. */
export function contentTag(registry: string, tag: string, imageId: string): string {
  return `${registry}/${repositoryOf(tag)}:${imageId.replace(':', '-')}`;
}

/** Pushes the image by its content tag; returns "registry/repository@sha256:..." */
export async function pushByDigest(engine: Engine, registry: string, imageId: string, tag: string): Promise<string> {
  const ref = contentTag(registry, tag, imageId);
  await engine.tag(imageId, ref);
  try {
    const digest = await engine.push(ref);
    return `${registry}/${repositoryOf(tag)}@${digest}`;
  } finally {
    await engine.removeTag(ref);
  }
}

/** Points release tags in the registry at the recorded image; returns "ref -> digest" lines. */
export async function publishTags(engine: Engine, registry: string, record: ImageRecord, tags: string[]): Promise<{ ref: string; digest: string }[]> {
  const published: { ref: string; digest: string }[] = [];
  for (const tag of tags) {
    const ref = `${registry}/${tag}`;
    await engine.tag(record.image, ref);
    try {
      published.push({ ref, digest: await engine.push(ref) });
    } finally {
      await engine.removeTag(ref);
    }
  }
  // Every tag must name the very manifest the build recorded (same image, same digest).
  const recorded = new Set(record.pushed.map((p) => p.slice(p.indexOf('@') + 1)));
  const stray = published.filter((p) => recorded.size > 0 && !recorded.has(p.digest));
  if (stray.length) {
    throw new Error(`${record.project}: ${stray.map((s) => `${s.ref} got ${s.digest}`).join(', ')}, not the recorded ${[...recorded].join(', ')}`);
  }
  return published;
}
