import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configuredFile, DEFAULT_CONFIG_FILE, parseConfig } from './config';

const REAL = JSON.parse(readFileSync(join(__dirname, '../../../images/versions.json'), 'utf8'));
const FILE = 'images/versions.json';

function errorOf(change: (c: any) => void): string {
  const c = structuredClone(REAL);
  change(c);
  try {
    parseConfig(c, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the versions file', () => {
  it('the real one is valid', () => {
    expect(parseConfig(REAL, FILE).defaultLine).toBe('1.9-0');
  });

  it.each([
    ['a missing field', (c: any) => delete c.lines['1.4-2'].sklearn, 'images/versions.json: lines.1.4-2.sklearn: is missing'],
    ['a malformed version', (c: any) => (c.lines['1.4-2'].extension = '2.x'), 'lines.1.4-2.extension: must be a version like "1.4.2"'],
    ['a wrong type', (c: any) => (c.lines['1.4-2'].sagemaker = 2), 'lines.1.4-2.sagemaker: '],
    ['a pin range', (c: any) => (c.lines['1.4-2'].pins.base.numpy = '>=1.26'), 'lines.1.4-2.pins.base.numpy: must be an exact version'],
    ['an unknown field', (c: any) => (c.lines['1.4-2'].sklaern = '1.4.2'), 'unknown field(s) "sklaern"'],
    ['an unknown default line', (c: any) => (c.defaultLine = '9.9-9'), 'defaultLine: names no line in "lines"'],
    ['a line whose name disagrees with its versions', (c: any) => (c.lines['1.4-2'].sklearn = '1.5.0'), 'lines.1.4-2: is named "1.4-2" but its sklearn 1.5.0'],
    ['a pinned scikit-learn that is not the line\'s', (c: any) => (c.lines['1.4-2'].pins.base['scikit-learn'] = '1.4.1'), 'pins.base.scikit-learn: is 1.4.1 but the line\'s "sklearn" is 1.4.2'],
    ['pins of one line that disagree across stages', (c: any) => (c.lines['1.4-2'].pins.extension.scipy = '1.14.0'), 'lines.1.4-2.pins.extension.scipy: is 1.14.0 but pins.base has scipy 1.15.3'],
    ['a repository Docker rejects', (c: any) => (c.images.base.repository = 'Sklearn_Base'), 'images.base.repository: must be a lowercase Docker repository name'],
    ['a registry OS source without a digest', (c: any) => (c.os.bookworm.source = 'registry'), 'os.bookworm.image: source "registry" needs "image"'],
    ['an OS image pinned by tag', (c: any) => ((c.os.bookworm.source = 'registry'), (c.os.bookworm.image = 'debian:bookworm')), 'os.bookworm.image: must be an image pinned by digest'],
    ['a line on a suite "os" does not have', (c: any) => (c.lines['1.4-2'].os = 'forky'), 'lines.1.4-2.os: names no suite in "os" (have: bookworm'],
    ['a line without a suite', (c: any) => delete c.lines['1.4-2'].os, 'lines.1.4-2.os: is missing: must name the Debian suite'],
    ['the one-OS form of older versions files', (c: any) => (c.os = { source: 'debootstrap', suite: 'bookworm', variant: 'minbase', mirror: 'http://deb.debian.org/debian', include: [] }),
      'os: has one OS ("suite": "bookworm"), but each line now names its suite: write "os": {"bookworm": {'],
  ])('%s is named with its field', (_what, change, message) => {
    expect(errorOf(change)).toContain(message);
  });
});

describe('configuredFile', () => {
  const workspaceWith = (nxJson: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'configured-'));
    if (nxJson !== undefined) writeFileSync(join(dir, 'nx.json'), JSON.stringify(nxJson));
    return dir;
  };

  it.each([
    ['the plugin option', { plugins: [{ plugin: './tools/image-chain', options: { config: 'conf/lines.json' } }] }, 'conf/lines.json'],
    ['the option however the plugin path is written', { plugins: ['nx/other', { plugin: 'tools/image-chain/index.js', options: { config: 'a.json' } }] }, 'a.json'],
    ['the default without the option', { plugins: ['./tools/image-chain'] }, DEFAULT_CONFIG_FILE],
    ['the default without nx.json', undefined, DEFAULT_CONFIG_FILE],
  ])('reads %s', (_what, nxJson, expected) => {
    expect(configuredFile(workspaceWith(nxJson))).toBe(expected);
  });
});
