// Once per test project: an engine that answers, a tiny OS image (busybox) pushed to a real local
// registry, so fixture chains take their OS stage "by digest" as the real chain can. The project
// "integration-containerd" gets an engine of its own with the containerd image store, which its
// test files then use (setup-engine.ts points DOCKER_HOST at it).
import type { TestProject } from 'vitest/node';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type Registry } from './registry';
import { startSecondEngine, type SecondEngine } from './second-engine';

let registry: Registry | undefined;
let engine: SecondEngine | undefined;

async function busyboxImage(env: Record<string, string>): Promise<string> {
  const name = 'image-chain-fixture-os:busybox';
  const found = await execa('docker', ['image', 'inspect', name], { reject: false, env });
  if (found.exitCode === 0) return name;
  const root = mkdtempSync(join(tmpdir(), 'busybox-root-'));
  try {
    for (const d of ['bin', 'tmp', 'etc']) mkdirSync(join(root, d));
    await execa('cp', ['/bin/busybox', join(root, 'bin/busybox')]);
    const applets = String((await execa('/bin/busybox', ['--list'])).stdout).split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    await execa('sh', ['-c', `tar -C ${root} -c . | docker image import --change 'ENV PATH=/bin' - ${name}`], { env });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return name;
}

export async function setup(project: TestProject): Promise<void> {
  const version = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false });
  if (version.exitCode !== 0) throw new Error('The integration tests need a Docker engine: run "bash tools/setup.sh" first.');
  const env: Record<string, string> = {};
  if (project.name === 'integration-containerd') {
    engine = await startSecondEngine({ containerdStore: true });
    env.DOCKER_HOST = engine.host;
  }
  registry = await startRegistry();
  const local = await busyboxImage(env);
  const ref = `${registry.host}/fixture-os:busybox`;
  await execa('docker', ['tag', local, ref], { env });
  await execa('docker', ['push', ref], { env });
  const digest = (await execa('docker', ['image', 'inspect', '-f', '{{range .RepoDigests}}{{println .}}{{end}}', ref], { env })).stdout
    .split('\n')
    .find((d) => d.startsWith(`${registry!.host}/`))!;
  await execa('docker', ['rmi', ref], { env });
  project.provide('registryHost', registry.host);
  project.provide('fixtureOsImage', digest);
  project.provide('dockerHost', env.DOCKER_HOST ?? '');
  project.provide('containerdStore', engine !== undefined);
}

export async function teardown(): Promise<void> {
  await registry?.stop();
  await engine?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    registryHost: string;
    fixtureOsImage: string;
    /** The engine this project's tests use, where it is not the default one. */
    dockerHost: string;
    /** Whether that engine has the containerd image store (second engines a test starts get it too). */
    containerdStore: boolean;
  }
}
