// The chain model on the fixture workspace, with a second version line added in the test.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE_PREFIX, fixtureWorkspace } from '../test/fixture-workspace';
import type { ChainConfig } from './config';
import { buildChainModel, dockerfileOptions, type ChainModel } from './model';

const ws = fixtureWorkspace();
afterAll(() => ws.remove());

/** The fixture's config with an older line beside the default one. */
function twoLines(change: (config: ChainConfig) => void = () => {}): ChainConfig {
  const config = structuredClone(ws.config);
  config.lines['1.2-1'] = {
    sklearn: '1.2.1', sagemaker: '1', python: '3', extension: '2.4.0',
    pins: { base: { 'scikit-learn': '1.2.1' }, final: { flask: '2.3.3' }, extension: { tsfresh: '0.20.1' } },
  };
  change(config);
  return config;
}

const model = (config: ChainConfig): ChainModel => buildChainModel(ws.dir, ws.stageFiles, config, 'images/versions.json');
const image = (chain: ChainModel, name: string) => {
  const found = chain.images.find((i) => i.name === name);
  if (!found) throw new Error(`no image project ${name}; have ${chain.images.map((i) => i.name).join(', ')}`);
  return found;
};

describe('the chain model of the fixture', () => {
  const chain = model(twoLines());

  it('names image projects by stage, and by stage and line off the default line', () => {
    expect(chain.images.map((i) => i.name).sort()).toEqual(['base', 'base-1.2-1', 'extension', 'extension-1.2-1', 'final', 'final-1.2-1', 'os']);
    expect(chain.recipes.map((r) => r.name).sort()).toEqual(['base-dockerfile', 'extension-dockerfile', 'final-dockerfile']);
    expect(image(chain, 'base-1.2-1').root).toBe('images/base/lines/1.2-1');
    expect(image(chain, 'os').root).toBe('images/os');
  });

  it('builds each line FROM the same line of the upstream stage, and every line FROM the one OS image', () => {
    const upstreams = Object.fromEntries(chain.images.map((i) => [i.name, i.upstream]));
    expect(upstreams).toEqual({
      os: null,
      base: 'os', 'base-1.2-1': 'os',
      final: 'base', 'final-1.2-1': 'base-1.2-1',
      extension: 'final', 'extension-1.2-1': 'final-1.2-1',
    });
    expect(dockerfileOptions(image(chain, 'final-1.2-1')).upstream).toBe('base-1.2-1');
    expect(image(chain, 'final').artifactProjects).toEqual(['demo']);
  });

  it('tags each image from its line; publishes the single-repository tag only for the stages configured', () => {
    expect(image(chain, 'base').tags).toEqual([`${FIXTURE_PREFIX}-base:1.4-2-cpu-py3`]);
    expect(image(chain, 'base-1.2-1').tags).toEqual([`${FIXTURE_PREFIX}-base:1.2-1-cpu-py3`]);
    expect(image(chain, 'base').publishTags).toEqual(image(chain, 'base').tags);
    expect(image(chain, 'extension-1.2-1').tags).toEqual([`${FIXTURE_PREFIX}-extension:2.4.0-1-cpu-py3`]);
    expect(image(chain, 'extension-1.2-1').publishTags).toEqual([`${FIXTURE_PREFIX}-extension:2.4.0-1-cpu-py3`, `${FIXTURE_PREFIX}-single:extension-2.4.0-1-cpu-py3`]);
    expect(image(chain, 'os').tags).toEqual([`${FIXTURE_PREFIX}-os:bookworm`]);
  });

  it('renders build args and the pins of the lock from the line', () => {
    expect(dockerfileOptions(image(chain, 'base-1.2-1')).buildArgs).toEqual({ SKLEARN_VERSION: '1.2.1' });
    expect(dockerfileOptions(image(chain, 'final-1.2-1')).requirementsLock).toEqual({
      file: 'images/final/lines/1.2-1/requirements.lock', pinnedIn: 'images/versions.json', requirements: { flask: '2.3.3' },
    });
  });

  it('keeps the other lines\' folders out of a line\'s inputs', () => {
    expect(image(chain, 'base').inputs).toContain('!{workspaceRoot}/images/base/lines/1.2-1/**');
    expect(image(chain, 'base').inputs).toContain('{workspaceRoot}/images/base/lines/1.4-2/**/*');
    expect(image(chain, 'base').inputs).toContain('!{workspaceRoot}/images/base/notes.md'); // its .dockerignore
    expect(image(chain, 'final').inputs).toContainEqual({ dependentTasksOutputFiles: 'dist/images/base/image.id' });
  });

  it('finds the container tests of the stages that have them', () => {
    expect(image(chain, 'extension').containerTests).toBe('images/extension/container-test');
    expect(image(chain, 'base').containerTests).toBeNull();
  });
});

describe('the version label', () => {
  const versionOf = (chain: ChainModel, name: string) => image(chain, name).build.options.labels['org.opencontainers.image.version'];

  it('is the line by default, and the suite for the OS stage', () => {
    const chain = model(twoLines());
    expect(versionOf(chain, 'base')).toBe('1.4-2');
    expect(versionOf(chain, 'base-1.2-1')).toBe('1.2-1');
    expect(versionOf(chain, 'os')).toBe('bookworm');
  });

  it('follows the stage file\'s "version" template', () => {
    const file = join(ws.dir, 'images/extension/stage.json');
    const original = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, JSON.stringify({ ...JSON.parse(original), version: '{extension}-{sagemaker}' }));
      const chain = model(twoLines());
      expect(versionOf(chain, 'extension')).toBe('2.5.0-2');
      expect(versionOf(chain, 'extension-1.2-1')).toBe('2.4.0-1');
      expect(versionOf(chain, 'final')).toBe('1.4-2');
    } finally {
      writeFileSync(file, original);
    }
  });
});

describe('names are not identity', () => {
  it('a changed tag template changes the tags, not the build options an image is keyed on', () => {
    const before = model(twoLines());
    const after = model(twoLines((c) => {
      c.images.base = { repository: 'renamed-base', tag: 'v{sklearn}' };
      c.publish!.singleRepository = 'renamed-single';
    }));
    expect(image(after, 'base').tags).toEqual(['renamed-base:v1.4.2']);
    expect(image(after, 'extension').publishTags[1]).toBe('renamed-single:extension-2.5.0-2-cpu-py3');
    for (const { name } of before.images) {
      expect(image(after, name).build, name).toEqual(image(before, name).build);
      expect(image(after, name).inputs, name).toEqual(image(before, name).inputs);
    }
  });
});
