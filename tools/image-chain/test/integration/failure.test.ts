// A failed stage: named with its failing step, no record, no tag on a partial image, nothing
// cached, nothing downstream run; bad configuration is refused before anything builds.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILDER, imageId, Workspace } from '../workspace';

async function containerCount(): Promise<number> {
  return String((await execa('docker', ['ps', '-aq'])).stdout).split('\n').filter(Boolean).length;
}

describe('a stage whose RUN fails', () => {
  let ws: Workspace;
  let goodExtension: string;
  beforeAll(async () => {
    ws = await Workspace.built();
    goodExtension = ws.record('extension').image;
  });
  afterAll(async () => ws?.cleanup());

  it('fails naming the stage and the Dockerfile step; leaves no record, no new tag, no container', async () => {
    const containers = await containerCount();
    ws.edit('images/extension/Dockerfile', (t) => `${t}RUN echo about to fail && exit 3\n`);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/✖ extension: the image build failed/);
    if (BUILDER === 'classic') {
      expect(run.output).toMatch(/failing Dockerfile step: Step \d+\/\d+ : RUN echo about to fail && exit 3/);
      expect(run.output).toMatch(/returned a non-zero code: 3/);
    } else {
      expect(run.output).toMatch(/failing Dockerfile step: #\d+ \[\d+\/\d+\] RUN echo about to fail && exit 3/);
      expect(run.output).toMatch(/did not complete successfully: exit code: 3\n\s*the step's last output:\n\s*about to fail/);
    }
    expect(ws.exists('dist/images/extension/image.json')).toBe(false);
    expect(await imageId(`${ws.prefix}-extension:2.5.0-2-cpu-py3`)).toBe(goodExtension);
    expect(await containerCount()).toBe(containers);
  });

  it('is not cached: the rerun runs the build again and fails again', async () => {
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code).not.toBe(0);
    expect(run.ran).toContain('extension');
  });

  it('once fixed, the chain completes and the tag moves to the new image', async () => {
    ws.edit('images/extension/Dockerfile', (t) => t.replace('RUN echo about to fail && exit 3\n', 'RUN echo fixed > /fixed\n'));
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual(['extension']);
    expect(await imageId(`${ws.prefix}-extension:2.5.0-2-cpu-py3`)).toBe(ws.record('extension').image);
  });

  it('a failing base stops the chain: final and extension do not run', async () => {
    ws.edit('images/base/Dockerfile', (t) => `${t}RUN false\n`);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code).not.toBe(0);
    expect(run.ran).toEqual(['base']);
    expect(run.output).toMatch(/✖ base: the image build failed/);
    expect(run.output).toMatch(/Tasks not run because their dependencies failed[\s\S]*final:docker-build/);
    ws.edit('images/base/Dockerfile', (t) => t.replace('RUN false\n', ''));
  });
});

describe('a requirements lock out of date with the pins', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws?.cleanup());

  it('is refused before building, naming the lock, the package, both versions and the fix; nothing recorded', async () => {
    ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.final.flask = '3.0.1'; }); // no `npm run lock`
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/✖ final: failed/);
    expect(run.output).toContain('images/final/lines/1.4-2/requirements.lock is out of date with images/versions.json');
    expect(run.output).toContain('flask: the lock has 3.0.0; images/versions.json pins 3.0.1');
    expect(run.output).toContain('Run `npm run lock`');
    expect(run.output).not.toMatch(/Building final FROM/);
    expect(ws.exists('dist/images/final/image.json')).toBe(false);
    expect(run.ran).not.toContain('extension');
  });

  it('once the lock is rewritten, the stage builds', async () => {
    ws.relock();
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ran.sort()).toEqual(['extension', 'final']);
  });
});

describe('bad configuration is refused before any build, naming file and field', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws?.cleanup());

  /** Applies a bad edit, runs, puts the file back, returns the output. */
  async function refused(file: string, change: (json: any) => void): Promise<string> {
    const saved = ws.read(file);
    ws.editJson(file, change);
    try {
      const run = await ws.nx(['run', 'extension:docker-build']);
      expect(run.code).not.toBe(0);
      expect(run.ran).toEqual([]);
      return run.output;
    } finally {
      ws.write(file, saved);
    }
  }

  it('a missing field', async () => {
    expect(await refused('images/versions.json', (c) => delete c.lines['1.4-2'].sklearn)).toContain('images/versions.json: lines.1.4-2.sklearn: is missing');
  });

  it('a malformed version', async () => {
    expect(await refused('images/versions.json', (c) => (c.lines['1.4-2'].extension = '2.5.x'))).toContain('images/versions.json: lines.1.4-2.extension: must be a version like "1.4.2"');
  });

  it('an unknown upstream stage', async () => {
    expect(await refused('images/final/stage.json', (s) => (s.from = 'bsae'))).toContain('images/final/stage.json: from: names no stage "bsae"; stages are: base, extension, final, os');
  });

  it('an unknown template variable in a stage file', async () => {
    expect(await refused('images/base/stage.json', (s) => (s.buildArgs.X = '{numpy}'))).toContain('images/base/stage.json: buildArgs.X: unknown variable {numpy}');
  });

  it('a chain that loops', async () => {
    expect(await refused('images/base/stage.json', (s) => (s.from = 'extension'))).toMatch(/images\/\w+\/stage.json: from: the chain loops back/);
  });

  it('no engine: the message says so and how to start one', async () => {
    const run = await ws.nx(['run', 'base:docker-build'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/No Docker engine answers at DOCKER_HOST=unix:\/\/\/nonexistent\/docker.sock/);
    expect(run.output).toMatch(/bash tools\/setup.sh/);
  });
});
