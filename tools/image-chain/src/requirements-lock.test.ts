import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from './config';
import { buildChainModel, lockOf } from './model';
import { fileVersion } from './package-index';
import { checkRequirementsLock, lockDifferences, parseLock, parseRequirementList, renderLock, RequirementsLockError } from './requirements-lock';
import { STAGE_GLOB } from './stage';

const REPO = resolve(__dirname, '../../..');
const hash = (c: string) => c.repeat(64);

describe('the committed requirements locks', () => {
  const config = loadConfig(REPO);
  const { images } = buildChainModel(REPO, globSync(STAGE_GLOB, { cwd: REPO }), config, DEFAULT_CONFIG_FILE);
  const locked = images.filter((i) => lockOf(i));

  it('every stage with pins has a lock, for every line', () => {
    const stagesWithPins = images.filter((i) => i.line && Object.keys(config.lines[i.line].pins[i.stage] ?? {}).length > 0);
    expect(stagesWithPins.length).toBeGreaterThan(0);
    expect(locked.map((i) => i.name).sort()).toEqual(stagesWithPins.map((i) => i.name).sort());
  });

  // Offline: names and versions only (the hashes are PyPI's, fetched by `npm run lock`).
  it.each(locked.map((i) => [lockOf(i)!.file, i] as const))('%s holds exactly the pins of images/versions.json', (_file, image) => {
    expect(() => checkRequirementsLock(REPO, lockOf(image)!)).not.toThrow();
  });

  it('the extension lock also pins the extension itself', () => {
    for (const image of locked.filter((i) => i.stage === 'extension')) {
      expect(lockOf(image)!.requirements['sagemaker-scikit-learn-extension']).toBe(config.lines[image.line!].extension);
    }
  });
});

describe('a requirements lock', () => {
  const lock = {
    requirements: [
      { name: 'Zope.Event', version: '6.2', hashes: [hash('b'), hash('a')] },
      { name: 'numpy', version: '1.26.4', hashes: [hash('c')] },
    ],
    sourceOnly: ['sagemaker_training'],
  };
  const text = renderLock(lock, ['a header']);

  it('renders a stable pip requirements file: sorted, normalized names, one hash per line', () => {
    expect(text).toBe(
      [
        '# a header',
        '',
        '# The index has no wheel of these versions: pip builds them from their hashed source archive.',
        '--no-binary sagemaker-training',
        '',
        `numpy==1.26.4 \\\n    --hash=sha256:${hash('c')}`,
        `zope-event==6.2 \\\n    --hash=sha256:${hash('a')} \\\n    --hash=sha256:${hash('b')}`,
        '',
      ].join('\n'),
    );
  });

  it('parses back what it rendered', () => {
    expect(parseLock(text, 'x.lock')).toEqual({
      requirements: [
        { name: 'numpy', version: '1.26.4', hashes: [hash('c')] },
        { name: 'zope-event', version: '6.2', hashes: [hash('a'), hash('b')] },
      ],
      sourceOnly: ['sagemaker-training'],
    });
  });

  it.each([
    ['a pin without a hash', 'numpy==1.26.4\n', 'x.lock:1: numpy==1.26.4 has no --hash'],
    ['a range', 'numpy>=1.26 \\\n  --hash=sha256:' + hash('a') + '\n', 'x.lock:1: cannot read "numpy>=1.26'],
    ['a short hash', 'numpy==1.26.4 --hash=sha256:abc\n', 'x.lock:1: cannot read'],
    ['another option', '--index-url https://example.invalid/simple\n', 'x.lock:1: cannot read "--index-url'],
  ])('refuses %s, naming the line', (_what, bad, message) => {
    expect(() => parseLock(bad, 'x.lock')).toThrow(message);
  });

  it('differs from the pins by package: changed, missing, no longer pinned (names normalized)', () => {
    expect(lockDifferences(parseLock(text, 'x.lock'), { numpy: '2.0.0', zope_event: '6.2', flask: '3.1.3' })).toEqual([
      { name: 'flask', locked: null, pinned: '3.1.3' },
      { name: 'numpy', locked: '1.26.4', pinned: '2.0.0' },
    ]);
    expect(lockDifferences(parseLock(text, 'x.lock'), { numpy: '1.26.4' })).toEqual([{ name: 'zope-event', locked: '6.2', pinned: null }]);
  });
});

describe('the build check of a lock', () => {
  const root = mkdtempSync(join(tmpdir(), 'lock-check-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const file = 'images/final/lines/1.4-2/requirements.lock';
  mkdirSync(join(root, 'images/final/lines/1.4-2'), { recursive: true });
  writeFileSync(join(root, file), renderLock({ requirements: [{ name: 'flask', version: '3.1.3', hashes: [hash('f')] }], sourceOnly: [] }, []));
  const options = (requirements: Record<string, string>) => ({ file, pinnedIn: 'images/versions.json', requirements });

  it('passes a lock that holds exactly the pins', () => {
    expect(() => checkRequirementsLock(root, options({ flask: '3.1.3' }))).not.toThrow();
  });

  it('refuses a stale lock naming the file, the package, both versions and the fix', () => {
    let message = '';
    try {
      checkRequirementsLock(root, options({ flask: '3.1.4' }));
    } catch (e) {
      expect(e).toBeInstanceOf(RequirementsLockError);
      message = (e as Error).message;
    }
    expect(message).toContain(`${file} is out of date with images/versions.json`);
    expect(message).toContain('flask: the lock has 3.1.3; images/versions.json pins 3.1.4');
    expect(message).toContain('Run `npm run lock`');
  });

  it('refuses a missing lock', () => {
    expect(() => checkRequirementsLock(root, { ...options({}), file: 'images/base/lines/1.4-2/requirements.lock' })).toThrow(
      /images\/base\/lines\/1.4-2\/requirements.lock is missing[\s\S]*npm run lock/,
    );
  });
});

describe('pins in a stage file and on the index', () => {
  it('reads rendered pin lists, refusing anything but exact pins', () => {
    expect(parseRequirementList(['numpy==1.26.4 Scikit_Learn==1.4.2', 'x==1'], 'f')).toEqual({ numpy: '1.26.4', 'scikit-learn': '1.4.2', x: '1' });
    expect(() => parseRequirementList(['numpy>=1'], 'f: requirementsLock.requirements')).toThrow(ConfigError);
    expect(() => parseRequirementList(['a==1 a==2'], 'f')).toThrow('a is pinned twice (1 and 2)');
  });

  it('tells a file\'s project and version from its name', () => {
    expect(fileVersion('scikit_learn-1.4.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl')).toEqual({ name: 'scikit-learn', version: '1.4.2', wheel: true });
    expect(fileVersion('sagemaker-scikit-learn-extension-2.5.0.tar.gz')).toEqual({ name: 'sagemaker-scikit-learn-extension', version: '2.5.0', wheel: false });
    expect(fileVersion('python_dateutil-2.9.0.post0-py2.py3-none-any.whl')?.version).toBe('2.9.0.post0');
    expect(fileVersion('numpy-1.0.1.dev3460.win32-py2.4.exe')).toBeNull();
  });
});

describe('a stage with pins but no lock', () => {
  it('is refused when the graph is built, naming the stage file and the fix', () => {
    const root = mkdtempSync(join(tmpdir(), 'lock-model-'));
    try {
      for (const stage of ['os', 'base']) mkdirSync(join(root, 'images', stage), { recursive: true });
      writeFileSync(join(root, 'images/os/stage.json'), JSON.stringify({ kind: 'os' }));
      const base = JSON.parse(readFileSync(join(REPO, 'images/base/stage.json'), 'utf8'));
      delete base.requirementsLock;
      writeFileSync(join(root, 'images/base/stage.json'), JSON.stringify(base));
      expect(() => buildChainModel(root, ['images/os/stage.json', 'images/base/stage.json'], loadConfig(REPO), DEFAULT_CONFIG_FILE)).toThrow(
        /images\/base\/stage.json: images\/versions.json pins packages for this stage \(lines.1.2-1.pins.base\) but the stage declares no lock/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
