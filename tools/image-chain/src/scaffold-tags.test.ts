import { describe, expect, it } from 'vitest';
import type { ImageInfo } from './engines/engine';
import { contentTag, isScaffoldTag, untagKeepingImage, upstreamTag } from './scaffold-tags';

const ID = `sha256:${'a'.repeat(64)}`;

function engineWithTags(tags: string[], digests: string[] = []) {
  const removed: string[] = [];
  const engine = {
    inspect: async (refs: string[]) => new Map(refs.filter((r) => tags.includes(r)).map((r) => [r, { Id: ID, RepoTags: tags, RepoDigests: digests } as unknown as ImageInfo])),
    removeTag: async (ref: string) => void removed.push(ref),
  };
  return { engine, removed };
}

describe('scaffold tags', () => {
  it('a build\'s upstream tag and a push\'s content tag are scaffolding; release tags are not', () => {
    expect(isScaffoldTag(upstreamTag(ID))).toBe(true);
    expect(isScaffoldTag(contentTag('127.0.0.1:5000/prefix', 'base', ID))).toBe(true);
    expect(isScaffoldTag('preprod-sklearn:1.4-2-cpu-py3')).toBe(false);
    expect(isScaffoldTag('sagemaker-scikit-learn:extension-2.5.0-2-cpu-py3')).toBe(false);
  });

  it('taken off where the image keeps another tag', async () => {
    const ref = upstreamTag(ID);
    const { engine, removed } = engineWithTags(['sklearn-base:1.4-2-cpu-py3', ref]);
    await untagKeepingImage(engine, ref);
    expect(removed).toEqual([ref]);
  });

  it('taken off where the image keeps a digest reference of another repository (an image pulled by digest)', async () => {
    const ref = upstreamTag(ID);
    const { engine, removed } = engineWithTags([ref], [`127.0.0.1:5000/fixture-os@sha256:${'b'.repeat(64)}`]);
    await untagKeepingImage(engine, ref);
    expect(removed).toEqual([ref]);
  });

  it('left where the only other name is a digest of its own repository (Docker removes those with the tag)', async () => {
    const ref = contentTag('127.0.0.1:5000', 'base', ID);
    const { engine, removed } = engineWithTags([ref], [`127.0.0.1:5000/base@sha256:${'b'.repeat(64)}`]);
    await untagKeepingImage(engine, ref);
    expect(removed).toEqual([]);
  });

  it('left on an image it is the only name of (Docker would delete the image with it)', async () => {
    const ref = upstreamTag(ID);
    const { engine, removed } = engineWithTags([ref]);
    await untagKeepingImage(engine, ref);
    expect(removed).toEqual([]);
  });
});
