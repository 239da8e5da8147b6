import { afterAll, describe, expect, it } from 'vitest';
import { fixtureWorkspace } from '../test/fixture-workspace';
import { buildChainModel } from './model';
import { OptionsError, parseOptions } from './options';

const TARGET = 'base-release:docker-push';
const engine = { client: 'docker', network: 'host', builder: 'buildkit' };
const push = { image: 'base', stage: 'base', registry: null, tags: ['unit-base:1.4-2-cpu-py3'], engine };

function messageOf(parse: () => unknown): string {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(OptionsError);
    return (e as Error).message;
  }
  throw new Error('expected an OptionsError');
}

describe('parseOptions', () => {
  it('gives back valid options as they are', () => {
    expect(parseOptions('docker-push', push, TARGET)).toEqual(push);
  });

  it('refuses an unknown field, naming the target, the executor and the field', () => {
    const message = messageOf(() => parseOptions('docker-push', { ...push, tag: 'x' }, TARGET));
    expect(message).toContain(`${TARGET} (options of the docker-push executor)`);
    expect(message).toContain('unknown field(s) "tag"');
  });

  it('refuses a missing field, naming it', () => {
    const { tags: _tags, ...withoutTags } = push;
    expect(messageOf(() => parseOptions('docker-push', withoutTags, TARGET))).toMatch(
      new RegExp(`${TARGET.replaceAll('.', '\\.')} \\(options of the docker-push executor\\): tags: is missing`),
    );
  });

  it('names the path of a nested field with a wrong value', () => {
    expect(messageOf(() => parseOptions('docker-push', { ...push, engine: { ...engine, network: 'bridge' } }, TARGET))).toMatch(/: engine\.network: /);
  });

  it('fills the python-wheel defaults, and keeps what is given', () => {
    expect(parseOptions('python-wheel', {}, 'packages/demo:build')).toEqual({ python: 'python3', outputPath: 'dist' });
    expect(parseOptions('python-wheel', { python: '.venv/bin/python' }, 'packages/demo:build')).toEqual({ python: '.venv/bin/python', outputPath: 'dist' });
    expect(parseOptions('python-module', { runs: [['pytest']] }, 'packages/demo:test')).toEqual({ runs: [['pytest']], python: 'python3' });
  });

  it('accepts every build option the model infers for the fixture (the plugin and the command agree)', () => {
    const ws = fixtureWorkspace();
    try {
      const { images } = buildChainModel(ws.dir, ws.stageFiles, ws.config, 'images/versions.json');
      for (const image of images) {
        expect(parseOptions(image.build.executor, image.build.options, image.name), image.name).toEqual(image.build.options);
      }
    } finally {
      ws.remove();
    }
  });
});
