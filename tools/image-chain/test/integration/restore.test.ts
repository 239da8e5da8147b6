// Never success without the image: after docker rmi (or a prune), a rerun brings it back.
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAIN as STAGES, expectChainAsRecorded, imageId, Workspace } from '../workspace';

async function removeImages(ws: Workspace, stages: string[]): Promise<void> {
  // Children first: the engine refuses to remove an image that others are built FROM.
  for (const stage of [...stages].reverse()) {
    const record = ws.record(stage);
    await execa('docker', ['image', 'rm', '-f', ...ws.tags(stage), record.image], { reject: false });
    expect(await imageId(record.image)).toBeNull();
  }
}

describe('images removed from the engine', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.built();
  });
  afterAll(async () => ws?.cleanup());

  it('docker rmi of the extension image: the rerun rebuilds only the extension', async () => {
    await removeImages(ws, ['extension']);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual(['extension']);
    await expectChainAsRecorded(ws);
  });

  it('docker rmi of final (and so its child): final and extension rebuild, FROM the recorded base', async () => {
    const base = ws.record('base').image;
    await removeImages(ws, ['final', 'extension']);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran.sort()).toEqual(['extension', 'final']);
    expect(ws.record('base').image).toBe(base);
    await expectChainAsRecorded(ws);
  });

  it('every image pruned: the whole chain comes back (the OS from its pinned digest)', async () => {
    await removeImages(ws, STAGES);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran.sort()).toEqual(['base', 'extension', 'final', 'os']);
    await expectChainAsRecorded(ws);
  });

  it('a cache hit restoring a record whose image is gone (records deleted too) is rebuilt in the same command', async () => {
    await removeImages(ws, ['final', 'extension']);
    rmSync(ws.path('dist/images'), { recursive: true, force: true });
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/not in the Docker engine as recorded; rebuilding them now/);
    await expectChainAsRecorded(ws);
    const again = await ws.nx(['run', 'extension:docker-build']);
    expect(again.code, again.output).toBe(0);
    expect(again.ran).toEqual([]);
  });

  it('a tag moved to another image is put back on the recorded image by a cached run', async () => {
    const record = ws.record('final');
    await execa('docker', ['tag', ws.record('base').image, ws.tags('final')[0]]);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual([]);
    expect(await imageId(ws.tags('final')[0])).toBe(record.image);
  });
});
