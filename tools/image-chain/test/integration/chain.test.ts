// The chain as users run it: order, tags, records, cache hits with every image present.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageId, layers, Workspace } from '../workspace';

const STAGES = ['os', 'base', 'final', 'extension'];

describe('nx run extension:docker-build on a fixture chain', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws?.cleanup());

  it('builds wheel, os, base, final, extension in order, each FROM the recorded upstream, with the scheme tags', async () => {
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran.sort()).toEqual(['base', 'demo', 'extension', 'final', 'os']);
    const order = [...run.output.matchAll(/^> nx run (\S+):/gm)].map((m) => m[1]);
    expect(order.indexOf('os')).toBeLessThan(order.indexOf('base'));
    expect(order.indexOf('base')).toBeLessThan(order.indexOf('final'));
    expect(order.indexOf('demo')).toBeLessThan(order.indexOf('final'));
    expect(order.indexOf('final')).toBeLessThan(order.indexOf('extension'));

    expect(ws.tags('base')).toEqual([`${ws.prefix}-base:1.4-2-cpu-py3`]);
    expect(ws.tags('final')).toEqual([`${ws.prefix}-final:1.4-2-cpu-py3`]);
    expect(ws.tags('extension')).toEqual([`${ws.prefix}-extension:2.5.0-2-cpu-py3`]);
    for (const stage of STAGES) {
      const record = ws.record(stage);
      expect(await imageId(ws.tags(stage)[0])).toBe(record.image);
      expect(ws.read(`dist/images/${stage}/image.id`).trim()).toBe(record.image);
    }
    for (const [up, down] of [['os', 'base'], ['base', 'final'], ['final', 'extension']]) {
      expect(ws.record(down).upstream).toEqual({ project: up, image: ws.record(up).image });
      const upLayers = await layers(ws.record(up).image);
      expect((await layers(ws.record(down).image)).slice(0, upLayers.length)).toEqual(upLayers);
    }
  });

  it('a second run is all cache hits, runs no build, and every image is present under its tags', async () => {
    const before = Object.fromEntries(STAGES.map((s) => [s, ws.record(s).image]));
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual([]);
    expect(run.cached.sort()).toEqual(['base', 'demo', 'extension', 'final', 'os']);
    for (const stage of STAGES) {
      expect(ws.record(stage).image).toBe(before[stage]);
      expect(await imageId(ws.tags(stage)[0])).toBe(before[stage]);
    }
  });

  it('images carry OCI labels whose revision is the last commit touching the stage', async () => {
    const { execa } = await import('execa');
    const labels = JSON.parse(String((await execa('docker', ['image', 'inspect', '-f', '{{json .Config.Labels}}', ws.record('base').image])).stdout));
    const head = String((await ws.git('rev-parse', 'HEAD')).stdout).trim();
    expect(labels).toMatchObject({
      'org.opencontainers.image.source': 'https://example.invalid/fixture',
      'org.opencontainers.image.version': '1.4-2', // from the line's variables, not from a tag
      'org.opencontainers.image.revision': head,
    });
  });
});
