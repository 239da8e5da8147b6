import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { imageTag, projectName, singleRepositoryTag } from './tags';
import { lineVariables, pinList, render } from './template';

const config = parseConfig(JSON.parse(readFileSync(join(__dirname, '../../../images/versions.json'), 'utf8')), 'images/versions.json');
const vars = lineVariables(config, '1.4-2');

describe('the tag scheme (README examples)', () => {
  it('base and final: <sklearn>-<sagemaker>-cpu-py<python>', () => {
    expect(imageTag(config, 'base', vars, 'v.json')).toBe('sklearn-base:1.4-2-cpu-py3');
    expect(imageTag(config, 'final', vars, 'v.json')).toBe('preprod-sklearn:1.4-2-cpu-py3');
  });
  it('extension: <extension>-<sagemaker>-cpu-py<python>, and its single-repository form', () => {
    const tag = imageTag(config, 'extension', vars, 'v.json');
    expect(tag).toBe('preprod-sklearn-extension:2.5.0-2-cpu-py3');
    expect(singleRepositoryTag('extension', tag)).toBe('extension-2.5.0-2-cpu-py3');
  });
  it('refuses a template that renders a tag Docker rejects, naming the field', () => {
    const bad = { ...config, images: { ...config.images, base: { repository: 'sklearn-base', tag: '{sklearn}/x' } } };
    expect(() => imageTag(bad, 'base', vars, 'images/versions.json')).toThrow(/images\/versions.json: images.base.tag renders to "1.4.2\/x", which Docker rejects/);
  });
  it('refuses an unknown variable, listing the known ones', () => {
    expect(() => render('{sklarn}', vars, 'f: field')).toThrow(/f: field: unknown variable \{sklarn\}; known variables: .*\{sklearn\}/);
  });
  it('pins render sorted, as pip requirement specifiers', () => {
    expect(pinList({ scipy: '1.13.1', numpy: '1.26.4' })).toBe('numpy==1.26.4 scipy==1.13.1');
  });
  it('bare project names build the default line', () => {
    expect(projectName('base', '1.4-2', '1.4-2')).toBe('base');
    expect(projectName('base', '1.2-1', '1.4-2')).toBe('base-1.2-1');
    expect(projectName('os', null, '1.4-2')).toBe('os');
  });
});
