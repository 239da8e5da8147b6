// The OS stage: a root file system bootstrapped from Debian's archive and imported, so the chain
// needs no container registry; or, where one is reachable, a pinned upstream image by digest.
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelInstruction, type ContainerEngine } from '../engines/engine';
import { lastCommitTouching } from '../git';
import { runImageStage, type MadeImage, type StageRun } from '../lifecycle';
import type { OsImageOptions } from '../options';
import { UPSTREAM_ARG } from '../stage';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * debootstrap is not reproducible (file times), so every bootstrap gives a new image ID and so
 * rebuilds the whole chain. A bootstrapped image also gets a tag naming a digest of the settings
 * it was made from; when the OS stage runs again with the same settings (its cache key changed
 * for another reason, e.g. a registry was set) and the engine still has that tag, the image is
 * reused. A tag, not a label: labels are inherited, so every image built FROM the OS would match.
 */
export function settingsTag(options: OsImageOptions): string {
  const { source, suite, variant, mirror, include } = options.os;
  const digest = createHash('sha256').update(JSON.stringify({ source, suite, variant, mirror, include, platform: options.platform })).digest('hex');
  return `${SETTINGS_REPOSITORY}:${suite}-${digest.slice(0, 24)}`;
}

/** Where bootstrapped OS images are kept by their settings (a name of the chain's own, not a release name). */
const SETTINGS_REPOSITORY = 'image-chain-os-bootstrap';

async function bootstrap(engine: ContainerEngine, os: OsImageOptions['os'], labels: Record<string, string>, work: string, signal: AbortSignal): Promise<string> {
  const rootfs = join(work, 'rootfs');
  const args = [`--variant=${os.variant}`];
  if (os.include.length) args.push(`--include=${os.include.join(',')}`);
  args.push(os.suite, rootfs, os.mirror);
  console.log(`debootstrap ${args.join(' ')}`);
  const result = await execa('debootstrap', args, { stdout: 'inherit', stderr: 'inherit', reject: false, cancelSignal: signal });
  if (result.isCanceled) throw new Error('debootstrap was interrupted (SIGINT/SIGTERM)');
  if ((result as { code?: string }).code === 'ENOENT') throw new Error('debootstrap is not installed: run "bash tools/setup.sh", or set os.source to "registry" in images/versions.json');
  if (result.exitCode !== 0) throw new Error(`debootstrap ${os.suite} from ${os.mirror} failed (exit ${result.exitCode}); see the lines above`);
  // Trim what an image does not need; apt lists come back with apt-get update.
  rmSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  const tar = join(work, 'rootfs.tar');
  await execa('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
  const changes = [`ENV PATH=${PATH}`, 'CMD ["bash"]', labelInstruction(labels)];
  return engine.importTar(tar, changes);
}

async function fromRegistry(engine: ContainerEngine, image: string, labels: Record<string, string>, work: string): Promise<string> {
  await engine.pull(image);
  // A one-line build adds our labels, FROM the image the pinned digest gave (by its ID, as every stage).
  const pulled = (await engine.inspect([image])).get(image);
  if (!pulled) throw new Error(`the engine has no ${image} after pulling it`);
  writeFileSync(join(work, 'Dockerfile'), `ARG ${UPSTREAM_ARG}\nFROM \${${UPSTREAM_ARG}}\n${labelInstruction(labels)}\n`);
  return engine.build({ dockerfile: join(work, 'Dockerfile'), context: work, upstream: pulled.Id, buildArgs: {}, network: 'default' });
}

export default async function osImage(options: OsImageOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runImageStage(options, context, (run) => make(options, run));
}

async function make(options: OsImageOptions, { project, root, engine, work, signal }: StageRun): Promise<MadeImage> {
  const { os } = options;
  const labels = { ...options.labels, 'org.opencontainers.image.revision': await lastCommitTouching(root, options.revisionPaths) };
  if (os.source === 'registry') return { image: await fromRegistry(engine, os.image!, labels, work), upstream: null };
  const reuseTag = settingsTag(options);
  const earlier = (await engine.inspect([reuseTag])).get(reuseTag)?.Id;
  if (earlier) {
    console.log(`${project}: reusing ${earlier}, bootstrapped earlier from the same settings (to bootstrap anew: docker rmi ${reuseTag})`);
    return { image: earlier, upstream: null };
  }
  const image = await bootstrap(engine, os, labels, work, signal);
  await engine.tag(image, reuseTag);
  return { image, upstream: null };
}
