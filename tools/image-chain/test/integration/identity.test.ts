// What an image's cache key is made of, and what it is not: the code that runs a target is in
// it (an edited executor reruns exactly its targets); names are not (a tag template change
// re-tags the recorded images with no build); and whatever a cache hit restores, no task starts
// on a missing image (the branch-switch-and-prune sequence, for every kind of task that uses one).
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { CHAIN as STAGES, expectChainAsRecorded, imageId, Workspace } from '../workspace';

/** Removes an image and every image built on it (the classic builder's intermediate images among them). */
async function removeWithChildren(id: string): Promise<void> {
  const all = String((await execa('docker', ['image', 'ls', '-aq', '--no-trunc'])).stdout).split('\n').filter(Boolean);
  const lines = all.length ? String((await execa('docker', ['image', 'inspect', '-f', '{{.Id}} {{.Parent}}', ...all])).stdout).split('\n') : [];
  const parents: Record<string, string> = Object.fromEntries(lines.map((l) => l.split(' ')));
  const doomed = new Set([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [image, parent] of Object.entries(parents)) {
      if (doomed.has(parent) && !doomed.has(image)) {
        doomed.add(image);
        grew = true;
      }
    }
  }
  await execa('docker', ['image', 'rm', '-f', ...[...doomed].reverse()], { reject: false });
  expect(await imageId(id)).toBeNull();
}

const dockerBuilds = (tasks: string[]) => tasks.filter((t) => t.endsWith(':docker-build')).sort();

describe('the code that runs a target is in its key', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.built();
  });
  afterAll(async () => ws?.cleanup());

  it('an edited wheel executor reruns the wheel and nothing else (the wheel is the same bytes), and its new code runs', async () => {
    ws.edit('tools/image-chain/src/executors/python-wheel.ts', (t) => t.replace(
      "console.log(`${context.projectName}: built ${wheels[0]}`);",
      "console.log(`${context.projectName}: built ${wheels[0]} (edited executor)`);",
    ));
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ranTasks).toEqual(['demo:build']);
    expect(run.output).toMatch(/built demo-.*\.whl \(edited executor\)/);
  });

  it('an edited docker-build executor reruns the stages it builds, not the OS stage or the wheel', async () => {
    ws.edit('tools/image-chain/src/executors/docker-build.ts', (t) => `${t}\n// edited\n`);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ranTasks.sort()).toEqual(['base:docker-build', 'extension:docker-build', 'final:docker-build']);
  });

  it('an edited module every image executor imports reruns each of their targets', async () => {
    ws.edit('tools/image-chain/src/lifecycle.ts', (t) => `${t}\n// edited\n`);
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.ranTasks.sort()).toEqual(['base:docker-build', 'extension:docker-build', 'final:docker-build', 'os:docker-build']);
  });
});

describe('names are not identity', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.built();
  });
  afterAll(async () => ws?.cleanup());

  it('a changed tag template re-tags the recorded images with no build, and drops the old tags (never a user\'s)', async () => {
    const ids = Object.fromEntries(STAGES.map((s) => [s, ws.record(s).image]));
    const oldTags = Object.fromEntries(STAGES.map((s) => [s, ws.tags(s)[0]]));
    const mine = `${ws.prefix}-mine:kept`;
    await execa('docker', ['tag', ids.final, mine]);
    ws.editJson('images/versions.json', (c) => {
      c.images.base.tag = 'renamed-{sklearnMinor}';
      c.images.final.repository = `${ws.prefix}-final-renamed`;
    });
    const run = await ws.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(dockerBuilds(run.ranTasks)).toEqual([]);
    expect(ws.tags('base')).toEqual([`${ws.prefix}-base:renamed-1.4`]);
    for (const stage of STAGES) expect(ws.record(stage).image, stage).toBe(ids[stage]);
    await expectChainAsRecorded(ws);
    expect(await imageId(oldTags.base)).toBeNull();
    expect(await imageId(oldTags.final)).toBeNull();
    expect(await imageId(oldTags.extension)).toBe(ids.extension); // unchanged name, still there
    expect(await imageId(mine)).toBe(ids.final);
  });
});

describe('no task starts on a missing image (build on a branch, build another, remove the first, switch back)', () => {
  let ws: Workspace | undefined;
  afterEach(async () => {
    await ws?.cleanup();
    ws = undefined;
  });

  /**
   * The sequence of the issue, in a workspace of its own: the chain built on main, then on a
   * branch where final differs (the tags move to the branch's images), main's images of
   * `stages` removed (docker rmi, or a prune of what no tag holds), back on main.
   */
  async function branchSwitchedAndRemoved(stages: string[], env: Record<string, string> = {}): Promise<Workspace> {
    const w = (ws = await Workspace.create());
    const built = await w.nx(['run', 'extension:docker-build'], env);
    expect(built.code, built.output).toBe(0);
    const onMain = Object.fromEntries(STAGES.map((s) => [s, w.record(s).image]));
    await w.git('checkout', '-qb', 'other');
    w.edit('images/final/Dockerfile', (t) => `${t}RUN echo other > /final-branch\n`);
    await w.commit('final on another branch');
    const other = await w.nx(['run', 'extension:docker-build'], env);
    expect(other.code, other.output).toBe(0);
    for (const stage of [...stages].reverse()) {
      expect(w.record(stage).image, `${stage} differs between the branches`).not.toBe(onMain[stage]);
      await removeWithChildren(onMain[stage]);
    }
    await w.git('checkout', '-q', 'main');
    return w;
  }

  it('container-test: the cache hit restores a record of a removed image; it is rebuilt in the same run and tested', async () => {
    const w = await branchSwitchedAndRemoved(['final', 'extension']);
    const run = await w.nx(['run', 'extension:container-test']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/is not in the engine and was never pushed.*: rebuilding it in this run/);
    expect(run.output).toMatch(/1 passed/);
    await expectChainAsRecorded(w);
  });

  it('a downstream stage that must rebuild FROM such an upstream rebuilds the upstream first, in the same run', async () => {
    const w = await branchSwitchedAndRemoved(['final', 'extension']);
    w.edit('images/extension/Dockerfile', (t) => `${t}RUN echo main-only > /extension-main\n`);
    const run = await w.nx(['run', 'extension:docker-build']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/The final image .* is not in the engine and was never pushed.*: rebuilding it in this run/);
    await expectChainAsRecorded(w);
  });

  it('docker-push: an image the build pushed by digest is pulled back, then published', async () => {
    const env = { IMAGE_CHAIN_REGISTRY: inject('registryHost') };
    const w = await branchSwitchedAndRemoved(['final', 'extension'], env);
    const run = await w.nx(['run', 'extension-release:docker-push'], env);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toMatch(/rebuilding it in this run/);
    await expectChainAsRecorded(w);
    expect(run.output).toMatch(new RegExp(`${inject('registryHost')}/${w.prefix}-extension:2\\.5\\.0-2-cpu-py3 -> sha256:`));
  });

  it('docker-push: an image never pushed is rebuilt in the same run, then published', async () => {
    const registry = inject('registryHost');
    // Built where pushing was not allowed (IMAGE_CHAIN_PUSH=false, as untrusted runs do): same
    // keys as a trusted run's, nothing pushed. The trusted push then finds the image gone.
    const w = await branchSwitchedAndRemoved(['final', 'extension'], { IMAGE_CHAIN_REGISTRY: registry, IMAGE_CHAIN_PUSH: 'false' });
    expect(w.record('base').pushed).toEqual([]);
    const run = await w.nx(['run', 'extension-release:docker-push'], { IMAGE_CHAIN_REGISTRY: registry });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/was never pushed.*: rebuilding it in this run/);
    await expectChainAsRecorded(w);
    expect(w.record('extension').pushed).toHaveLength(1);
  });
});
