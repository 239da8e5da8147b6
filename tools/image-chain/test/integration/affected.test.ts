// CI builds what a change affects, and nothing else: the affected step on a scratch repository.
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../workspace';

const IMAGES = new Set(['os', 'base', 'final', 'extension', 'demo']);

describe('the affected step (tools/ci/affected.ts)', () => {
  let ws: Workspace;
  let base: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    base = String((await ws.git('rev-parse', 'HEAD')).stdout).trim();
  });
  afterAll(async () => ws?.cleanup());

  /** The tasks the step lists for a change committed on a branch from base. */
  async function affectedTasksBy(change: () => void, from = base): Promise<string[]> {
    await ws.git('checkout', '-q', from);
    await ws.git('checkout', '-q', '-B', `change-${Date.now()}`);
    change();
    await ws.commit('change');
    const r = await execa('node', ['-r', '@swc-node/register', join(ws.dir, 'tools/ci/affected.ts'), '--base', from, '--head', 'HEAD', '--print'], {
      cwd: ws.dir,
      env: { NX_DAEMON: 'false' },
    });
    // Only the tasks of projects with something to build, test or publish; the *-dockerfile folders have no targets.
    return String(r.stdout).split('\n').filter((t) => IMAGES.has(imageOf(t.split(':')[0]).replace(/-(trixie|[0-9.]+-[0-9]+)$/, '')));
  }
  /** An image's release project (its docker-push) counts as the image. */
  const imageOf = (project: string) => project.replace(/-release$/, '');
  const affectedBy = async (change: () => void) => [...new Set((await affectedTasksBy(change)).map((t) => imageOf(t.split(':')[0])))].sort();

  it('a change in the Python package: the wheel, final, extension', async () => {
    expect(await affectedBy(() => ws.write('packages/demo/src/demo/__init__.py', 'VALUE = 3\n'))).toEqual(['demo', 'extension', 'final']);
  });
  it('a change in the base Dockerfile: base, final, extension', async () => {
    expect(await affectedBy(() => ws.edit('images/base/Dockerfile', (t) => `${t}RUN true\n`))).toEqual(['base', 'extension', 'final']);
  });
  it('a change in the extension Dockerfile: extension only', async () => {
    expect(await affectedBy(() => ws.edit('images/extension/Dockerfile', (t) => `${t}RUN true\n`))).toEqual(['extension']);
  });
  it('a config field only final renders: final and extension', async () => {
    expect(await affectedBy(() => ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.final.flask = '9.9.9'; }))).toEqual(['extension', 'final']);
  });
  it('a config field only the extension renders: every task of the extension', async () => {
    expect(await affectedTasksBy(() => ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.extension.tsfresh = '9.9.9'; }))).toEqual(['extension-release:docker-push', 'extension:container-test', 'extension:docker-build']);
  });
  it('a config field no stage renders: nothing', async () => {
    expect(await affectedBy(() => ws.editJson('images/versions.json', (c) => { c.$comment = 'reworded'; }))).toEqual([]);
  });
  // Task by task: the stage folder belongs to base-dockerfile, which every base image depends
  // on, yet no task reads a file its stage's .dockerignore leaves out of the build context.
  it('a file the stage\'s .dockerignore leaves out: nothing', async () => {
    expect(await affectedTasksBy(() => ws.edit('images/base/notes.md', (t) => `${t}\nreworded\n`))).toEqual([]);
  });
  it('a change in a container test: the tests, with the image build they run against as it is', async () => {
    // The fixture's extension stage has no .dockerignore, so its tests are in its build context.
    expect(await affectedTasksBy(() => ws.edit('images/extension/container-test/test_extension.py', (t) => `${t}\n# reworded\n`))).toEqual(['extension-release:docker-push', 'extension:container-test', 'extension:docker-build']);
  });
  it('a setting of one Debian suite: that suite\'s OS stage and the lines on it, not the others', async () => {
    await ws.git('checkout', '-q', base);
    await ws.git('checkout', '-q', '-B', 'two-suites');
    ws.editJson('images/versions.json', (c) => {
      c.os.trixie = { ...c.os.bookworm };
      c.lines['1.9-0'] = { ...structuredClone(c.lines['1.4-2']), sklearn: '1.9.1', sagemaker: '0', os: 'trixie' };
      c.lines['1.9-0'].pins.base['scikit-learn'] = '1.9.1';
    });
    await ws.commit('a line on trixie');
    const twoSuites = String((await ws.git('rev-parse', 'HEAD')).stdout).trim();
    const tasks = await affectedTasksBy(() => ws.editJson('images/versions.json', (c) => { c.os.trixie.mirror = 'http://mirror.invalid/debian'; }), twoSuites);
    expect([...new Set(tasks.map((t) => imageOf(t.split(':')[0])))].sort()).toEqual(['base-1.9-0', 'extension-1.9-0', 'final-1.9-0', 'os-trixie']);
  });
  it('docs: nothing', async () => {
    expect(await affectedBy(() => ws.write('README.md', '# docs\n'))).toEqual([]);
  });
});
