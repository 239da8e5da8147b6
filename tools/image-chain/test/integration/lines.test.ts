// Several version lines from one graph: one config entry adds a line; lines on one Debian suite
// share its OS stage, a line on another suite gets that suite's; all share the wheel; a change
// to one line's pins touches that line only.
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageId, Workspace } from '../workspace';

describe('version lines', () => {
  let ws: Workspace;
  let base: string;
  beforeAll(async () => {
    ws = await Workspace.create();
    // Adding a line is one entry in the versions file.
    ws.editJson('images/versions.json', (c) => {
      c.lines['1.2-1'] = { sklearn: '1.2.1', sagemaker: '1', python: '3', os: 'bookworm', extension: '2.5.0', pins: { base: { 'scikit-learn': '1.2.1' }, final: { flask: '2.3.3' }, extension: { tsfresh: '0.20.2' } } };
      // A line on a suite of its own (the fixture's OS image stands in for it).
      c.os.trixie = { ...c.os.bookworm, python3: '3.13' };
      c.lines['1.9-0'] = { sklearn: '1.9.1', sagemaker: '0', python: '3', os: 'trixie', extension: '2.5.0', pins: { base: { 'scikit-learn': '1.9.1' }, final: { flask: '3.1.3' }, extension: { tsfresh: '0.21.2' } } };
    });
    ws.relock(); // and its locks (npm run lock)
    await ws.commit('add lines 1.2-1 and 1.9-0');
    base = String((await ws.git('rev-parse', 'HEAD')).stdout).trim();
  });
  afterAll(async () => ws?.cleanup());

  it('each line gets its own image projects; the OS of a suite and the wheel are shared', async () => {
    const graph = join(ws.dir, 'graph.json');
    await execa('node', [join(ws.dir, 'node_modules/nx/dist/bin/nx.js'), 'graph', `--file=${graph}`], { cwd: ws.dir, env: { NX_DAEMON: 'false' } });
    const deps = JSON.parse(ws.read('graph.json')).graph.dependencies as Record<string, { target: string }[]>;
    const on = (p: string) => deps[p].map((d) => d.target).sort();
    expect(on('base-1.2-1')).toEqual(['base-dockerfile', 'os']);
    expect(on('base-1.9-0')).toEqual(['base-dockerfile', 'os-trixie']);
    expect(on('final-1.2-1')).toEqual(['base-1.2-1', 'demo', 'final-dockerfile']);
    expect(on('extension-1.2-1')).toEqual(['extension-dockerfile', 'final-1.2-1']);
    expect(on('final')).toEqual(['base', 'demo', 'final-dockerfile']);
  });

  it('one command builds every line, with each line\'s tags, FROM the OS image of its suite', async () => {
    const run = await ws.nx(['run-many', '-t', 'docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ranTasks.filter((t) => t.startsWith('os:'))).toHaveLength(1);
    expect(run.ranTasks.filter((t) => t.startsWith('os-trixie:'))).toHaveLength(1);
    expect(ws.tags('os-trixie')).toEqual([`${ws.prefix}-os:trixie`]);
    expect(ws.record('base-1.9-0').upstream.image).toBe(ws.record('os-trixie').image);
    expect(ws.record('os-trixie').image).not.toBe(ws.record('os').image);
    expect(ws.tags('base-1.2-1')).toEqual([`${ws.prefix}-base:1.2-1-cpu-py3`]);
    expect(ws.tags('extension-1.2-1')).toEqual([`${ws.prefix}-extension:2.5.0-1-cpu-py3`]);
    expect(ws.record('base-1.2-1').upstream.image).toBe(ws.record('os').image);
    expect(ws.record('base').upstream.image).toBe(ws.record('os').image);
    for (const p of ['os', 'os-trixie', 'base', 'final', 'extension', 'base-1.2-1', 'final-1.2-1', 'extension-1.2-1', 'base-1.9-0', 'final-1.9-0', 'extension-1.9-0']) {
      expect(await imageId(ws.tags(p)[0]), p).toBe(ws.record(p).image);
    }
    expect(ws.record('final-1.2-1').image).not.toBe(ws.record('final').image);
  });

  it('nx run extension:docker-build builds the default line only', async () => {
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toMatch(/-(1\.2-1|1\.9-0|trixie):docker-build/);
  });

  async function affectedBy(change: () => void): Promise<string[]> {
    await ws.git('checkout', '-q', base);
    await ws.git('checkout', '-q', '-B', `c-${Date.now()}`);
    change();
    await ws.commit('change');
    const r = await execa('node', ['-r', '@swc-node/register', join(ws.dir, 'tools/ci/affected.ts'), '--base', base, '--head', 'HEAD', '--print'], { cwd: ws.dir, env: { NX_DAEMON: 'false' } });
    // The projects of the tasks it lists ("final-1.2-1:docker-build", "final-1.2-1-release:docker-push").
    return [...new Set(String(r.stdout).split('\n').filter(Boolean).map((t) => t.split(':')[0]))].sort();
  }

  it('a change to one line\'s pins touches that line only', async () => {
    expect(await affectedBy(() => ws.editJson('images/versions.json', (c) => { c.lines['1.2-1'].pins.base['scikit-learn'] = '1.2.1'; c.lines['1.2-1'].pins.final.flask = '2.3.2'; }))).toEqual(['extension-1.2-1', 'extension-1.2-1-release', 'final-1.2-1', 'final-1.2-1-release']);
  });

  it('a change to the wheel touches every line\'s final and extension', async () => {
    expect(await affectedBy(() => ws.write('packages/demo/src/demo/__init__.py', 'VALUE = 9\n'))).toEqual(['demo', 'extension', 'extension-1.2-1', 'extension-1.2-1-release', 'extension-1.9-0', 'extension-1.9-0-release', 'extension-release', 'final', 'final-1.2-1', 'final-1.2-1-release', 'final-1.9-0', 'final-1.9-0-release', 'final-release']);
  });

  it('a line whose pins disagree is refused before any build, naming the field', async () => {
    await ws.git('checkout', '-q', base);
    ws.editJson('images/versions.json', (c) => { c.lines['1.2-1'].pins.base['scikit-learn'] = '1.4.2'; });
    const run = await ws.nx(['run-many', '-t', 'docker-build']);
    expect(run.code).not.toBe(0);
    expect(run.ran).toEqual([]);
    expect(run.output).toContain('lines.1.2-1.pins.base.scikit-learn: is 1.4.2 but the line\'s "sklearn" is 1.2.1');
    await ws.git('checkout', '-q', '--', '.');
  });
});
