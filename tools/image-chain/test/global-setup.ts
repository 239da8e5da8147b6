// Once per test run: an engine that answers, a tiny OS image (busybox) pushed to a real local
// registry, so fixture chains take their OS stage "by digest" as the real chain can.
import type { TestProject } from 'vitest/node';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type Registry } from './registry';

let registry: Registry | undefined;

async function busyboxImage(): Promise<string> {
  const name = 'image-chain-fixture-os:busybox';
  const found = await execa('docker', ['image', 'inspect', name], { reject: false });
  if (found.exitCode === 0) return name;
  const root = mkdtempSync(join(tmpdir(), 'busybox-root-'));
  try {
    for (const d of ['bin', 'tmp', 'etc']) mkdirSync(join(root, d));
    await execa('cp', ['/bin/busybox', join(root, 'bin/busybox')]);
    const applets = String((await execa('/bin/busybox', ['--list'])).stdout).split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    await execa('sh', ['-c', `tar -C ${root} -c . | docker image import --change 'ENV PATH=/bin' - ${name}`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return name;
}

export async function setup(project: TestProject): Promise<void> {
  const engine = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false });
  if (engine.exitCode !== 0) throw new Error('The integration tests need a Docker engine: run "bash tools/setup.sh" first.');
  registry = await startRegistry();
  const local = await busyboxImage();
  const ref = `${registry.host}/fixture-os:busybox`;
  await execa('docker', ['tag', local, ref]);
  await execa('docker', ['push', ref]);
  const digest = (await execa('docker', ['image', 'inspect', '-f', '{{range .RepoDigests}}{{println .}}{{end}}', ref])).stdout
    .split('\n')
    .find((d) => d.startsWith(`${registry!.host}/`))!;
  await execa('docker', ['rmi', ref]);
  project.provide('registryHost', registry.host);
  project.provide('fixtureOsImage', digest);
}

export async function teardown(): Promise<void> {
  await registry?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    registryHost: string;
    fixtureOsImage: string;
  }
}
