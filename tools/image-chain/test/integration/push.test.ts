// docker-push: release tags in a real registry point at the digest the build recorded; the
// extension also gets its single-repository tag; a stage whose container tests fail is never
// pushed; a registry that is down gives a clear error and the rerun pushes only what is missing.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startRegistry, type Registry } from '../registry';
import { Workspace } from '../workspace';

async function digestOf(registry: string, repository: string, tag: string): Promise<string | null> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}

describe('docker-push', () => {
  let ws: Workspace;
  let registry: Registry;
  let env: Record<string, string>;
  beforeAll(async () => {
    registry = await startRegistry(); // its own registry, so it can be stopped mid-test
    ws = await Workspace.create();
    env = { IMAGE_CHAIN_REGISTRY: registry.host };
  });
  afterAll(async () => {
    await ws?.cleanup();
    await registry?.stop();
  });

  it('publishes every stage by the recorded digest, after its container tests', async () => {
    const run = await ws.nx(['run-many', '-t', 'docker-push'], env);
    expect(run.code, run.output).toBe(0);
    const order = [...run.output.matchAll(/^> nx run (extension(?:-release)?:\S+)/gm)].map((m) => m[1]);
    expect(order.indexOf('extension:container-test')).toBeLessThan(order.indexOf('extension-release:docker-push'));
    for (const stage of ['os', 'base', 'final', 'extension']) {
      const record = ws.record(stage);
      const recorded = record.pushed[0].split('@')[1];
      const [repository, tag] = ws.tags(stage)[0].split(':');
      expect(await digestOf(registry.host, repository, tag), stage).toBe(recorded);
    }
    const ext = ws.record('extension').pushed[0].split('@')[1];
    expect(await digestOf(registry.host, `${ws.prefix}-single`, 'extension-2.5.0-2-cpu-py3')).toBe(ext);
  });

  it('a second push of unchanged images is a cache hit', async () => {
    const run = await ws.nx(['run-many', '-t', 'docker-push'], env);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual([]);
  });

  it('a changed publish setting or tag template publishes the new names, with no build and no test run again', async () => {
    ws.editJson('images/versions.json', (c) => {
      c.publish.singleRepository = `${ws.prefix}-single-renamed`;
      c.images.final.tag = 'renamed-{sklearnMinor}';
    });
    const run = await ws.nx(['run-many', '-t', 'docker-push'], env);
    expect(run.code, run.output).toBe(0);
    expect(run.ranTasks.sort()).toEqual(['extension-release:docker-push', 'final-release:docker-push']);
    expect(await digestOf(registry.host, `${ws.prefix}-single-renamed`, 'extension-2.5.0-2-cpu-py3')).toBe(ws.record('extension').pushed[0].split('@')[1]);
    expect(await digestOf(registry.host, `${ws.prefix}-final`, 'renamed-1.4')).toBe(ws.record('final').pushed[0].split('@')[1]);
  });

  it('a stage whose container tests fail is never pushed', async () => {
    ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.extension = { statsmodels: '0.14.4' }; });
    ws.relock();
    const run = await ws.nx(['run', 'extension-release:docker-push'], env);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/container tests failed/);
    expect(run.ranTasks).not.toContain('extension-release:docker-push');
    const [repository, tag] = ws.tags('extension')[0].split(':');
    expect(await digestOf(registry.host, repository, tag)).not.toBe(ws.record('extension').pushed[0].split('@')[1]);
  });

  it('a registry that is down: a clear error, nothing recorded; the rerun pushes only what is missing', async () => {
    ws.editJson('images/versions.json', (c) => { c.lines['1.4-2'].pins.extension = { tsfresh: '0.20.9' }; });
    ws.relock();
    await registry.stop(true);
    const down = await ws.nx(['run', 'extension-release:docker-push'], env);
    expect(down.code).not.toBe(0);
    expect(down.output).toMatch(new RegExp(`registry ${registry.host.replace(/\./g, '\\.')} cannot be reached|Check that the registry ${registry.host.replace(/\./g, '\\.')} is up`));
    expect(ws.exists('dist/images/extension/image.json')).toBe(false);
    registry = await startRegistry({ port: Number(registry.host.split(':')[1]), dir: registry.dir });
    const again = await ws.nx(['run-many', '-t', 'docker-push'], env);
    expect(again.code, again.output).toBe(0);
    // Only the extension had anything left to do.
    expect(again.ranTasks.sort()).toEqual(['extension-release:docker-push', 'extension:container-test', 'extension:docker-build']);
  });
});

describe('a registry set after the images were built without one', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create();
  });
  afterAll(async () => ws?.cleanup());

  it('is a new cache key: the stages run again (same images, from the layer cache) and are pushed', async () => {
    const local = await ws.nx(['run', 'extension:docker-build']);
    expect(local.code, local.output).toBe(0);
    const ids = Object.fromEntries(['os', 'base', 'final', 'extension'].map((s) => [s, ws.record(s).image]));
    expect(ws.record('extension').pushed).toEqual([]);

    const registry = inject('registryHost');
    const pushed = await ws.nx(['run', 'extension:docker-build'], { IMAGE_CHAIN_REGISTRY: registry });
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.ran.sort()).toEqual(['base', 'extension', 'final', 'os']);
    for (const [stage, id] of Object.entries(ids)) {
      const record = ws.record(stage);
      expect(record.image, stage).toBe(id);
      // The build pushes by digest (release tags are docker-push's): the manifest is there.
      const [name, digest] = record.pushed[0].split('@');
      expect(name, stage).toBe(`${registry}/${stage}`);
      expect(await digestOf(registry, stage, digest), stage).toBe(digest);
    }
  });

  it('an OS stage bootstrapped from Debian is reused from the same settings, not bootstrapped again (a new ID would rebuild the chain)', async () => {
    const debian = await Workspace.create();
    try {
      debian.editJson('images/versions.json', (c) => { c.os.bookworm.source = 'debootstrap'; delete c.os.bookworm.image; });
      await debian.commit('bootstrap the OS');
      // The whole chain: images built FROM the OS must never pass for it when it is reused.
      const first = await debian.nx(['run', 'extension:docker-build']);
      expect(first.code, first.output).toBe(0);
      const id = debian.record('os').image;
      const again = await debian.nx(['run', 'os:docker-build'], { IMAGE_CHAIN_REGISTRY: inject('registryHost') });
      expect(again.code, again.output).toBe(0);
      expect(again.ran).toEqual(['os']);
      expect(again.output).toMatch(/reusing sha256:\w+, bootstrapped earlier from the same settings/);
      expect(again.output).toContain(`reusing ${id},`);
      expect(debian.record('os').image).toBe(id);
      expect(debian.record('os').pushed).toHaveLength(1);
    } finally {
      await debian.cleanup();
    }
  }, 600_000);
});
