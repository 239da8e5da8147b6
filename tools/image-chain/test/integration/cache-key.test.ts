// Each input of a stage's cache key, changed one at a time, rebuilds exactly that stage and
// what is built FROM it; nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChainAsRecorded, Workspace } from '../workspace';

describe('cache keys', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.built();
  });
  afterAll(async () => ws?.cleanup());

  async function rebuilt(change: () => void): Promise<string[]> {
    change();
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    return run.ran.sort();
  }

  it('the base Dockerfile: base, final, extension', async () => {
    expect(await rebuilt(() => ws.edit('images/base/Dockerfile', (t) => `${t}RUN echo changed > /base/changed\n`))).toEqual(['base', 'extension', 'final']);
  });

  it('a file the base context sends: base, final, extension', async () => {
    expect(await rebuilt(() => ws.write('images/base/data.txt', 'base data 2\n'))).toEqual(['base', 'extension', 'final']);
  });

  it('a file the base .dockerignore leaves out: nothing', async () => {
    expect(await rebuilt(() => ws.write('images/base/notes.md', 'edited notes\n'))).toEqual([]);
  });

  it('a config field only final uses (pins.final): final, extension', async () => {
    expect(await rebuilt(() => { ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.final.flask = '3.0.1'; }); ws.relock(); })).toEqual(['extension', 'final']);
  });

  it('a config field only the extension uses (pins.extension): extension', async () => {
    expect(await rebuilt(() => { ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.extension.tsfresh = '0.20.3'; }); ws.relock(); })).toEqual(['extension']);
  });

  it('an OS setting: the OS stage rebuilds; its image ID is unchanged, so nothing below rebuilds', async () => {
    const before = ws.record('os').image;
    expect(await rebuilt(() => ws.editJson('images/versions.json', (c) => { c.os.bookworm.mirror = 'http://deb.debian.org/debian/'; }))).toEqual(['os']);
    expect(ws.record('os').image).toBe(before);
  });

  it('a build arg value of the extension stage file: extension', async () => {
    expect(await rebuilt(() => ws.editJson('images/extension/stage.json', (s) => { s.buildArgs.EXTRA = 'x'; }))).toEqual(['extension']);
  });

  it('the Python package source: the wheel, final, extension', async () => {
    expect(await rebuilt(() => ws.write('packages/demo/src/demo/__init__.py', 'VALUE = 2\n'))).toEqual(['demo', 'extension', 'final']);
  });

  it('the platform: another one changes the image stage keys', async () => {
    ws.editJson('images/versions.json', (c) => { c.docker.platform = 'linux/arm64'; });
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.ran).toContain('os');
    expect(run.ran).toContain('base');
    // Back to the host platform, declared explicitly: the earlier entries serve again.
    expect(await rebuilt(() => ws.editJson('images/versions.json', (c) => { c.docker.platform = 'linux/amd64'; }))).toEqual([]);
  });

  it('a docs file outside every stage: nothing', async () => {
    expect(await rebuilt(() => ws.write('README.md', '# notes\n'))).toEqual([]);
  });

  it('the upstream image identity: base rebuilt to a new ID (same inputs) rebuilds final and extension', async () => {
    const { execa } = await import('execa');
    const before = { base: ws.record('base'), final: ws.record('final'), extension: ws.record('extension') };
    await execa('docker', ['image', 'prune', '-f']); // earlier builds' dangling children hold base
    for (const stage of ['extension', 'final', 'base'] as const) {
      await execa('docker', ['image', 'rm', '-f', ...ws.tags(stage), before[stage].image]);
    }
    // Without the builder's layer cache: BuildKit would otherwise make the very same image again.
    const run = await ws.nx(['run', 'extension:docker-build'], { IMAGE_CHAIN_NO_CACHE: 'true' });
    expect(run.code, run.output).toBe(0);
    expect(run.ran.sort()).toEqual(['base', 'extension', 'final']);
    expect(ws.record('base').inputHash).toBe(before.base.inputHash); // its own key did not change
    expect(ws.record('base').image).not.toBe(before.base.image);
    expect(ws.record('final').inputHash).not.toBe(before.final.inputHash); // the upstream ID is in the key
    expect(ws.record('extension').inputHash).not.toBe(before.extension.inputHash);
  });

  it('a fresh build on request (--skip-nx-cache, IMAGE_CHAIN_NO_CACHE=true): every image stage built anew, FROM the new upstreams', async () => {
    const before = Object.fromEntries(['base', 'final', 'extension'].map((stage) => [stage, ws.record(stage).image]));
    const run = await ws.nx(['run', 'extension:docker-build', '--skip-nx-cache'], { IMAGE_CHAIN_NO_CACHE: 'true' });
    expect(run.code, run.output).toBe(0);
    for (const stage of ['base', 'final', 'extension']) expect(ws.record(stage).image, stage).not.toBe(before[stage]);
    await expectChainAsRecorded(ws);
  });
});
