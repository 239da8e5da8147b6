import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ChainConfig } from './config';
import { imageTag, projectName, singleRepositoryTag } from './tags';
import { lineVariables, pinList, render } from './template';

/** The names of the README's examples ("The chain", "Publishing"), on a versions file of their own. */
const README_CONFIG = parseConfig({
  defaultLine: '1.9-0',
  source: 'https://example.invalid/readme',
  os: { trixie: { source: 'debootstrap', variant: 'minbase', mirror: 'http://deb.debian.org/debian', include: [], python3: '3.13' } },
  publish: { singleRepository: 'sagemaker-scikit-learn', singleRepositoryStages: ['extension'] },
  images: {
    os: { repository: 'sagemaker-sklearn-os', tag: '{suite}-{variant}' },
    base: { repository: 'sklearn-base', tag: '{sklearnMinor}-{sagemaker}-cpu-py{python}' },
    final: { repository: 'preprod-sklearn', tag: '{sklearnMinor}-{sagemaker}-cpu-py{python}' },
    extension: { repository: 'preprod-sklearn-extension', tag: '{extension}-{sagemaker}-cpu-py{python}' },
  },
  lines: {
    '1.9-0': { sklearn: '1.9.1', sagemaker: '0', python: '3', os: 'trixie', extension: '2.5.0', pins: { base: { scipy: '1.18.1', numpy: '2.5.5' } } },
  },
}, 'readme.json');
const vars = lineVariables(README_CONFIG, '1.9-0');

describe('the tag scheme (README examples)', () => {
  it('base and final: <sklearn>-<sagemaker>-cpu-py<python>', () => {
    expect(imageTag(README_CONFIG, 'base', vars, 'v.json')).toBe('sklearn-base:1.9-0-cpu-py3');
    expect(imageTag(README_CONFIG, 'final', vars, 'v.json')).toBe('preprod-sklearn:1.9-0-cpu-py3');
  });
  it('extension: <extension>-<sagemaker>-cpu-py<python>, and its single-repository form', () => {
    const tag = imageTag(README_CONFIG, 'extension', vars, 'v.json');
    expect(tag).toBe('preprod-sklearn-extension:2.5.0-0-cpu-py3');
    expect(singleRepositoryTag('extension', tag)).toBe('extension-2.5.0-0-cpu-py3');
  });
  it('the single-repository form keeps the tag of a repository behind a registry port', () => {
    expect(singleRepositoryTag('extension', '127.0.0.1:5000/x/preprod-sklearn-extension:2.5.0-2-cpu-py3')).toBe('extension-2.5.0-2-cpu-py3');
  });
  it('refuses a stage without a name, naming the field to add', () => {
    const { final: _final, ...images } = README_CONFIG.images;
    expect(() => imageTag({ ...README_CONFIG, images }, 'final', vars, 'images/versions.json')).toThrow(/images\/versions.json: images.final is missing/);
  });
  it('refuses a template that renders a tag Docker rejects, naming the field', () => {
    const bad: ChainConfig = { ...README_CONFIG, images: { ...README_CONFIG.images, base: { repository: 'sklearn-base', tag: '{sklearn}/x' } } };
    expect(() => imageTag(bad, 'base', vars, 'images/versions.json')).toThrow(/images\/versions.json: images.base.tag renders to "1.9.1\/x", which Docker rejects/);
  });
  it('refuses an unknown variable, listing the known ones', () => {
    expect(() => render('{sklarn}', vars, 'f: field')).toThrow(/f: field: unknown variable \{sklarn\}; known variables: .*\{sklearn\}/);
  });
  it('pins render sorted, as pip requirement specifiers', () => {
    expect(pinList({ scipy: '1.18.1', numpy: '2.5.5' })).toBe('numpy==2.5.5 scipy==1.18.1');
    expect(vars['pins.base']).toBe('numpy==2.5.5 scipy==1.18.1');
  });
  it('bare project names build the default line', () => {
    expect(projectName('base', '1.4-2', '1.4-2')).toBe('base');
    expect(projectName('base', '1.2-1', '1.4-2')).toBe('base-1.2-1');
    expect(projectName('os', null, '1.4-2')).toBe('os');
  });
});

// The one test here that reads the live versions file: the README documents its names.
describe('the committed images/versions.json', () => {
  it('still gives the README\'s names for its default line', () => {
    const live = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../../images/versions.json'), 'utf8')), 'images/versions.json');
    const liveVars = lineVariables(live, live.defaultLine);
    for (const stage of ['base', 'final', 'extension']) {
      expect(imageTag(live, stage, liveVars, 'images/versions.json'), stage).toBe(imageTag(README_CONFIG, stage, vars, 'readme.json'));
    }
    expect(live.publish?.singleRepository).toBe(README_CONFIG.publish?.singleRepository);
  });
});
