// Faults injected for real: a lost engine, Ctrl-C, two runs at once, a full disk, tampered
// records and cache entries, a planted secret. After each: nothing stale, nothing half-written,
// and the next run finishes the job.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSecondEngine, type SecondEngine } from '../second-engine';
import { CHAIN as STAGES, expectChainAsRecorded, imageId, layers, Workspace } from '../workspace';

const NX = join(__dirname, '../../../../node_modules/nx/dist/bin/nx.js');

/** Starts `nx run extension:docker-build` and resolves once `marker` shows in its output. */
function startRun(ws: Workspace, env: Record<string, string>, marker: RegExp) {
  const child = execa('node', [NX, 'run', 'extension:docker-build', '--output-style=stream'], {
    cwd: ws.dir,
    env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', ...env },
    reject: false,
    all: true,
    detached: true, // its own process group, as a terminal's foreground job
  });
  let output = '';
  const seen = new Promise<void>((resolve) => {
    child.all!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (marker.test(output)) resolve();
    });
  });
  return { child, seen, output: () => output };
}

function cachedRecords(ws: Workspace, project: string): string[] {
  const cache = ws.path('.nx/cache');
  if (!existsSync(cache)) return [];
  return readdirSync(cache)
    .map((h) => join(cache, h, 'dist/images', project, 'image.json'))
    .filter((f) => existsSync(f));
}

describe('faults', () => {
  let ws: Workspace;
  let engineB: SecondEngine | undefined;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterEach(async () => {
    await engineB?.stop();
    engineB = undefined;
  });
  afterAll(async () => ws?.cleanup());

  it('the engine stops in the middle of a stage: the run names the lost engine; no record, no cache entry; the rerun completes', async () => {
    engineB = await startSecondEngine();
    const env = { DOCKER_HOST: engineB.host };
    ws.edit('images/base/Dockerfile', (t) => `${t}RUN echo slow-step && sleep 15\n`);
    const run = startRun(ws, env, /RUN echo slow-step/);
    await run.seen;
    await new Promise((r) => setTimeout(r, 1000));
    await engineB.kill();
    const result = await run.child;
    expect(result.exitCode).not.toBe(0);
    expect(run.output()).toMatch(/The Docker engine stopped answering during the build|No Docker engine answers/);
    expect(ws.exists('dist/images/base/image.json')).toBe(false);
    expect(cachedRecords(ws, 'base')).toEqual([]);

    await engineB.start();
    const again = await ws.nx(['run', 'extension:docker-build'], env);
    expect(again.code, again.output).toBe(0);
    await expectChainAsRecorded(ws, { DOCKER_HOST: engineB!.host });
    ws.edit('images/base/Dockerfile', (t) => t.replace('RUN echo slow-step && sleep 15\n', ''));
  });

  it('Ctrl-C during a build: the docker client and the build stop, no tag, no record; the rerun completes', async () => {
    // A step of its own (no builder has it cached), that the rerun must run anew: an engine
    // that went on with the interrupted step would have it cached by then.
    const step = `RUN echo interrupt-me-${Date.now().toString(36)} && sleep 12\n`;
    ws.edit('images/final/Dockerfile', (t) => `${t}${step}`);
    const tagBefore = await imageId(`${ws.prefix}-final:1.4-2-cpu-py3`);
    const run = startRun(ws, {}, /RUN echo interrupt-me/);
    await run.seen;
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-run.child.pid!, 'SIGINT');
    const result = await run.child;
    expect(result.exitCode).not.toBe(0);
    // Give the engine a moment to cancel the build, then look for anything left running.
    await new Promise((r) => setTimeout(r, 3000));
    // Nothing of the run's process group is left (the docker client, buildx, nx's workers).
    const left = await execa('pgrep', ['-a', '-g', String(run.child.pid)], { reject: false });
    expect(String(left.stdout).trim()).toBe('');
    const running = String((await execa('docker', ['ps', '--format', '{{.Command}}'])).stdout);
    expect(running).not.toMatch(/interrupt-me/);
    expect(await imageId(`${ws.prefix}-final:1.4-2-cpu-py3`)).toBe(tagBefore);
    expect(ws.exists('dist/images/final/image.json')).toBe(false);

    const again = await ws.nx(['run', 'extension:docker-build']);
    expect(again.code, again.output).toBe(0);
    const echoed = step.slice('RUN echo '.length, step.indexOf(' &&'));
    expect(again.output, 'the interrupted step runs anew').toMatch(new RegExp(`^(#\\d+ [\\d.]+ )?${echoed}\\s*$`, 'm'));
    await expectChainAsRecorded(ws);
    ws.edit('images/final/Dockerfile', (t) => t.replace(step, ''));
  });

  it('two runs at once in one workspace: both end well, one waits for the other, tags and records agree', async () => {
    // A step of its own (no builder has it cached, so the first run really builds for a while);
    // the second run starts once the first is building it, so the two always overlap there.
    ws.edit('images/extension/Dockerfile', (t) => `${t}RUN echo concurrent-${Date.now().toString(36)} && sleep 10\n`);
    const one = startRun(ws, {}, /RUN echo concurrent/);
    await one.seen;
    const two = await ws.nx(['run', 'extension:docker-build']);
    const first = await one.child;
    expect(first.exitCode, one.output()).toBe(0);
    expect(two.code, two.output).toBe(0);
    expect(two.output).toMatch(/another run \(pid \d+\) is building this stage; waiting for it/);
    await expectChainAsRecorded(ws);
    const record = ws.record('extension');
    const upLayers = await layers(ws.record('final').image);
    expect((await layers(record.image)).slice(0, upLayers.length)).toEqual(upLayers);
  });

  it('a truncated record in the workspace is never trusted: the cached one comes back', async () => {
    // From a settled workspace: two runs at once (above) may leave either run's record of a
    // stage whose key one of them computed while the other was restoring its inputs.
    const settle = await ws.nx(['run', 'extension:docker-build']);
    expect(settle.code, settle.output).toBe(0);
    const before = ws.record('final');
    writeFileSync(ws.path('dist/images/final/image.json'), '{"schema": 1, "proj');
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(ws.record('final'), run.output).toEqual(before);
    await expectChainAsRecorded(ws);
  });

  it('a cache entry whose recorded image does not exist is detected and rebuilt, not reported as built', async () => {
    const record = ws.record('extension');
    const bogus = `sha256:${'e'.repeat(64)}`;
    for (const file of cachedRecords(ws, 'extension')) {
      writeFileSync(file, readFileSync(file, 'utf8').replace(record.image, bogus));
      writeFileSync(join(file, '../image.id'), `${bogus}\n`);
    }
    await execa('rm', ['-rf', ws.path('dist/images/extension')]);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/not in the Docker engine as recorded; rebuilding them now/);
    expect(ws.record('extension').image).not.toBe(bogus);
    await expectChainAsRecorded(ws);
  });

  it('a full disk during a build: a clear error, nothing cached; with space again the rerun completes', async () => {
    engineB = await startSecondEngine({ diskMb: 300 });
    const env = { DOCKER_HOST: engineB.host };
    ws.edit('images/base/Dockerfile', (t) => `${t}RUN dd if=/dev/zero of=/filler bs=1M count=400\n`);
    const run = await ws.nx(['run', 'extension:docker-build'], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/no space left on device/i);
    expect(run.output).toMatch(/disk .*full/i);
    expect(ws.exists('dist/images/base/image.json')).toBe(false);
    ws.edit('images/base/Dockerfile', (t) => t.replace('RUN dd if=/dev/zero of=/filler bs=1M count=400\n', ''));
    await engineB.docker('system', 'prune', '-af');
    const again = await ws.nx(['run', 'extension:docker-build'], env);
    expect(again.code, again.output).toBe(0);
  });

  it('no secret from the environment reaches an image, a build arg, a record or the cache', async () => {
    const secret = `planted-secret-${Date.now()}`;
    ws.edit('images/base/Dockerfile', (t) => `${t}RUN echo secret-check\n`);
    const run = await ws.nx(['run', 'extension:docker-build'], { AWS_SECRET_ACCESS_KEY: secret, NX_SECRET: secret, PIP_INDEX_URL: `https://user:${secret}@example.invalid/simple` });
    expect(run.code, run.output).toBe(0);
    for (const stage of STAGES) {
      const image = ws.record(stage).image;
      const history = String((await execa('docker', ['history', '--no-trunc', image])).stdout);
      const inspect = String((await execa('docker', ['image', 'inspect', image])).stdout);
      expect(history + inspect, stage).not.toContain(secret);
    }
    const grep = await execa('grep', ['-rl', secret, ws.path('dist'), ws.path('.nx/cache')], { reject: false });
    expect(String(grep.stdout)).toBe('');
    ws.edit('images/base/Dockerfile', (t) => t.replace('RUN echo secret-check\n', ''));
  });
});
