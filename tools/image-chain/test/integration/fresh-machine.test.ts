// A fresh machine: engine B and an empty workspace share only the registry and the remote cache
// with machine A. `nx run extension:docker-build` there builds nothing: every stage is a cache
// hit and every image is pulled by its recorded digest.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { startRemoteCache } from '../../../remote-cache/server';
import { startSecondEngine, type SecondEngine } from '../second-engine';
import { Workspace } from '../workspace';

const STAGES = ['os', 'base', 'final', 'extension'];

describe('fresh-machine restore through the registry and the shared cache', () => {
  let a: Workspace;
  let b: Workspace;
  let engineB: SecondEngine;
  let cache: Awaited<ReturnType<typeof startRemoteCache>>;
  let envA: Record<string, string>;
  let envB: Record<string, string>;

  beforeAll(async () => {
    cache = await startRemoteCache();
    const registry = inject('registryHost');
    a = await Workspace.create();
    b = await Workspace.create({ prefix: a.prefix });
    // Machines that share cache entries use the same image store (docs/design.md).
    engineB = await startSecondEngine({ containerdStore: inject('containerdStore') });
    envA = { IMAGE_CHAIN_REGISTRY: registry, NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cache.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.rwToken };
    // An untrusted machine: read-only token, its own engine, nothing else.
    // B names the registry as A did (it is part of the cache key) but, untrusted, never pushes.
    envB = { DOCKER_HOST: engineB.host, IMAGE_CHAIN_REGISTRY: registry, IMAGE_CHAIN_PUSH: 'false', NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cache.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.roToken };
  });
  afterAll(async () => {
    await engineB?.stop();
    await a?.cleanup();
    await b?.cleanup();
    await cache?.stop();
  });

  it('machine A builds, tests and pushes by digest; the records name the pushed digests', async () => {
    const run = await a.nx(['run', 'extension:container-test'], envA);
    expect(run.code, run.output).toBe(0);
    for (const stage of STAGES) {
      expect(a.record(stage).pushed).toEqual([expect.stringMatching(new RegExp(`^${inject('registryHost')}/${stage}@sha256:[0-9a-f]{64}$`))]);
    }
  });

  it('machine B runs no build: every stage is a remote cache hit, and the images are in engine B as recorded', async () => {
    const run = await b.nx(['run', 'extension:docker-build'], envB);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual([]);
    expect(run.output).toMatch(/\[remote cache\]/);
    for (const stage of STAGES) {
      const record = b.record(stage);
      expect(record.image).toBe(a.record(stage).image);
      expect((await engineB.docker('image', 'inspect', '-f', '{{.Id}}', b.tags(stage)[0])).trim()).toBe(record.image);
    }
  });

  it('the extension container test passes in engine B', async () => {
    const run = await b.nx(['run', 'extension:container-test', '--skip-nx-cache', '--exclude-task-dependencies'], envB);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/1 passed/);
  });

  it('a read-only token cannot write, and IMAGE_CHAIN_PUSH=false pushes nothing: a change built on B stays on B', async () => {
    b.edit('images/extension/Dockerfile', (t) => `${t}RUN echo only-on-b > /b\n`);
    const run = await b.nx(['run', 'extension:docker-build'], envB);
    expect(run.code, run.output).toBe(0);
    expect(run.ran).toEqual(['extension']);
    expect(b.record('extension').pushed).toEqual([]);
    const hash = b.record('extension').inputHash;
    const res = await fetch(`${cache.url}/v1/cache/${hash}`, { headers: { Authorization: `Bearer ${cache.rwToken}` } });
    expect(res.status).toBe(404);
  });

  it('a record pointing at a wrong digest is refused and never used', async () => {
    // Tamper with B's record of final: another image's digest, same recorded ID.
    const record = b.record('final');
    // A real manifest in final's repository, of another image (base's): pullable, but wrong.
    const decoy = `${inject('registryHost')}/${a.prefix}-final:decoy`;
    await execa('docker', ['tag', a.record('base').image, decoy]);
    const pushed = String((await execa('docker', ['push', decoy])).stdout);
    const wrong = `${inject('registryHost')}/${a.prefix}-final@${/digest: (sha256:[0-9a-f]{64})/.exec(pushed)![1]}`;
    await execa('docker', ['rmi', decoy]);
    await execa('docker', ['image', 'rm', '-f', ...b.tags('extension'), b.record('extension').image], { env: { DOCKER_HOST: engineB.host }, reject: false });
    await execa('docker', ['image', 'rm', '-f', ...b.tags('final'), record.image], { env: { DOCKER_HOST: engineB.host }, reject: false });
    // In the workspace and in the local cache entry Nx would restore it from.
    const hash = record.inputHash;
    for (const file of ['dist/images/final/image.json', `.nx/cache/${hash}/dist/images/final/image.json`]) {
      b.editJson(file, (r) => { r.pushed = [wrong]; });
    }
    const run = await b.nx(['run', 'extension:docker-build'], envB);
    // The wrong digest is pulled, found to be another image, refused; final is rebuilt instead.
    expect(run.output).toMatch(/refused/);
    expect(run.code, run.output).toBe(0);
    expect((await engineB.docker('image', 'inspect', '-f', '{{.Id}}', b.tags('final')[0])).trim()).toBe(b.record('final').image);
  });

  it('a shared cache that is down does not fail the build: it runs locally, with a warning', async () => {
    const run = await b.nx(['run', 'extension:docker-build'], { ...envB, NX_SELF_HOSTED_REMOTE_CACHE_SERVER: 'http://127.0.0.1:9' });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/remote cache http:\/\/127.0.0.1:9 is not used for this run: it cannot be reached/);
  });

  it('a refused token does not fail the build either', async () => {
    const run = await b.nx(['run', 'extension:docker-build'], { ...envB, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: 'wrong' });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/answered 401/);
  });
});
