import { describe, expect, it } from 'vitest';
import type { ContainerEngine } from './engines/engine';
import { publishTags, pushByDigest } from './publish';
import { contentTag } from './scaffold-tags';
import type { ImageRecord } from './record';

const IMAGE = `sha256:${'1'.repeat(64)}`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/**
 * What publishing asks of an engine, in memory: every call recorded, each push answered with a
 * digest. The image already has a tag of its own (a push's name is taken off only then).
 */
function fakeEngine(digestOf: (ref: string) => string = () => digest('d')) {
  const calls: string[] = [];
  const engine = {
    tag: async (image: string, ref: string) => void calls.push(`tag ${image} ${ref}`),
    inspect: async (refs: string[]) => new Map(refs.map((r) => [r, { Id: IMAGE, RepoTags: ['mine:1', r] }])),
    push: async (ref: string) => {
      calls.push(`push ${ref}`);
      return digestOf(ref);
    },
    removeTag: async (ref: string) => void calls.push(`removeTag ${ref}`),
  };
  // The only ContainerEngine methods publish.ts calls.
  return { calls, engine: engine as unknown as ContainerEngine };
}

function record(pushed: string[]): ImageRecord {
  return { schema: 2, project: 'extension', stage: 'extension', line: '1.4-2', image: IMAGE, upstream: null, platform: 'linux/amd64', inputHash: '1', pushed };
}

describe('pushByDigest', () => {
  it('pushes under registry/<stage>:sha256-<hex>, returns registry/<stage>@digest and removes the local ref', async () => {
    const { calls, engine } = fakeEngine();
    const ref = `127.0.0.1:5000/extension:sha256-${'1'.repeat(64)}`;
    expect(contentTag('127.0.0.1:5000', 'extension', IMAGE)).toBe(ref);
    expect(await pushByDigest(engine, '127.0.0.1:5000', IMAGE, 'extension')).toBe(`127.0.0.1:5000/extension@${digest('d')}`);
    expect(calls).toEqual([`tag ${IMAGE} ${ref}`, `push ${ref}`, `removeTag ${ref}`]);
  });

  it('removes the local ref when the push fails', async () => {
    const { calls, engine } = fakeEngine(() => {
      throw new Error('registry down');
    });
    await expect(pushByDigest(engine, 'r', IMAGE, 'base')).rejects.toThrow('registry down');
    expect(calls.at(-1)).toBe(`removeTag r/base:sha256-${'1'.repeat(64)}`);
  });
});

describe('publishTags', () => {
  const tags = ['unit-extension:2.5.0-2-cpu-py3', 'unit-single:extension-2.5.0-2-cpu-py3'];

  it('pushes registry/<tag> for every tag, removing each local ref afterwards', async () => {
    const { calls, engine } = fakeEngine();
    const published = await publishTags(engine, 'reg.test', record([`reg.test/extension@${digest('d')}`]), tags);
    expect(published).toEqual(tags.map((t) => ({ ref: `reg.test/${t}`, digest: digest('d') })));
    expect(calls).toEqual(tags.flatMap((t) => [`tag ${IMAGE} reg.test/${t}`, `push reg.test/${t}`, `removeTag reg.test/${t}`]));
  });

  it('throws when a pushed digest is not the recorded one, and publishes no tag after it', async () => {
    const { calls, engine } = fakeEngine(() => digest('e'));
    await expect(publishTags(engine, 'reg.test', record([`reg.test/extension@${digest('d')}`]), tags)).rejects.toThrow(
      `extension: reg.test/${tags[0]} got ${digest('e')}, not the recorded ${digest('d')}`,
    );
    expect(calls).toEqual([`tag ${IMAGE} reg.test/${tags[0]}`, `push reg.test/${tags[0]}`, `removeTag reg.test/${tags[0]}`]);
  });

  it('accepts any digest for an image the build never pushed (nothing recorded to compare with)', async () => {
    const { engine } = fakeEngine(() => digest('e'));
    expect(await publishTags(engine, 'reg.test', record([]), tags)).toHaveLength(2);
  });
});
