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
    sklearn: '1.2.1', sagemaker: '1', python: '3', os: 'bookworm', extension: '2.4.0',
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
    expect(image(chain, 'os').root).toBe('images/os/suites/bookworm');
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

/** The fixture's two lines and a third on another Debian suite. */
function threeLines(change: (config: ChainConfig) => void = () => {}): ChainConfig {
  return twoLines((config) => {
    config.os.trixie = { ...config.os.bookworm, mirror: 'http://deb.debian.org/debian' };
    config.lines['1.9-0'] = {
      sklearn: '1.9.1', sagemaker: '0', python: '3', os: 'trixie', extension: '2.5.0',
      pins: { base: { 'scikit-learn': '1.9.1' }, final: { flask: '3.1.3' }, extension: { tsfresh: '0.21.2' } },
    };
    change(config);
  });
}

describe('lines on different Debian suites', () => {
  const chain = model(threeLines());

  it('get an OS stage per suite: the default line\'s is "os", another suite\'s "os-<suite>"', () => {
    expect(chain.images.filter((i) => i.stage === 'os').map((i) => [i.name, i.root, i.tags[0]])).toEqual([
      ['os', 'images/os/suites/bookworm', `${FIXTURE_PREFIX}-os:bookworm`],
      ['os-trixie', 'images/os/suites/trixie', `${FIXTURE_PREFIX}-os:trixie`],
    ]);
    expect(image(chain, 'base-1.9-0').upstream).toBe('os-trixie');
    expect(image(chain, 'base-1.2-1').upstream).toBe('os');
    expect(image(chain, 'os-trixie').build.options).toMatchObject({ os: { suite: 'trixie' } });
  });

  it('a suite\'s settings are only its own OS stage\'s options (its lines follow through the image they are built FROM)', () => {
    const changed = model(threeLines((c) => { c.os.trixie.mirror = 'http://mirror.invalid/debian'; }));
    const differs = chain.images.filter((i) => JSON.stringify(image(changed, i.name).build) !== JSON.stringify(i.build)).map((i) => i.name);
    expect(differs).toEqual(['os-trixie']);
  });

  it('the default line moving to another suite moves the bare name "os" with it', () => {
    const moved = model(threeLines((c) => { c.defaultLine = '1.9-0'; }));
    expect(image(moved, 'base').upstream).toBe('os');
    expect(image(moved, 'os').build.options).toMatchObject({ os: { suite: 'trixie' } });
    expect(image(moved, 'base-1.4-2').upstream).toBe('os-bookworm');
  });

  it('refuses a tag template that gives two images one name', () => {
    expect(() => model(threeLines((c) => { c.images.os.tag = 'latest'; }))).toThrow(
      /images\.os\.tag gives os and os-trixie the same name .*-os:latest/,
    );
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
