// The OS stage: a root file system bootstrapped from Debian's archive and imported, so the chain
// needs no container registry; or, where one is reachable, a pinned upstream image by digest.
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelInstruction, type Engine } from '../engine';
import { loadConfig, pushRegistryOf } from '../config';
import { lastCommitTouching } from '../git';
import { pushByDigest } from '../publish';
import type { DockerBuildOptions } from '../model';
import { removeRecord, writeRecord } from '../record';
import { tagImage } from '../presence';
import { withProjectLock } from '../lock';
import { engineFor, interruptible, reportFailure, reuseConcurrentBuild } from './common';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * debootstrap is not reproducible (file times), so every bootstrap gives a new image ID and so
 * rebuilds the whole chain. A bootstrapped image also gets a tag naming a digest of the settings
 * it was made from; when the OS stage runs again with the same settings (its cache key changed
 * for another reason, e.g. a registry was set) and the engine still has that tag, the image is
 * reused. A tag, not a label: labels are inherited, so every image built FROM the OS would match.
 */
function settingsTag(options: DockerBuildOptions): string {
  const { source, suite, variant, mirror, include } = options.os!;
  const digest = createHash('sha256').update(JSON.stringify({ source, suite, variant, mirror, include, platform: options.platform })).digest('hex');
  const repository = options.tags[0].slice(0, options.tags[0].lastIndexOf(':'));
  return `${repository}:settings-${digest.slice(0, 24)}`;
}

async function bootstrap(engine: Engine, os: NonNullable<DockerBuildOptions['os']>, labels: Record<string, string>, work: string, signal: AbortSignal): Promise<string> {
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

async function fromRegistry(engine: Engine, image: string, labels: Record<string, string>, work: string): Promise<string> {
  await engine.pull(image);
  // A one-line build adds our labels; FROM by digest keeps the pin exact.
  writeFileSync(join(work, 'Dockerfile'), `FROM ${image}\n${labelInstruction(labels)}\n`);
  const iidFile = join(work, 'iid');
  await engine.build({ dockerfile: join(work, 'Dockerfile'), context: work, buildArgs: {}, network: 'default', iidFile });
  return readFileSync(iidFile, 'utf8').trim();
}

export default async function osImage(options: DockerBuildOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return withProjectLock(context.root, context.projectName!, () => interruptible((signal) => make(options, context, signal)));
}

async function make(options: DockerBuildOptions, context: ExecutorContext, signal: AbortSignal): Promise<{ success: boolean }> {
  const project = context.projectName!;
  if (await reuseConcurrentBuild(context.root, project)) return { success: true };
  removeRecord(context.root, project);
  const work = mkdtempSync(join(tmpdir(), `image-chain-${project}-`));
  try {
    const config = loadConfig(context.root);
    const engine = engineFor(config);
    const os = options.os!;
    const labels = { ...options.labels, 'org.opencontainers.image.revision': await lastCommitTouching(context.root, options.revisionPaths) };
    let id: string;
    if (os.source === 'registry') id = await fromRegistry(engine, os.image!, labels, work);
    else {
      const reuseTag = settingsTag(options);
      const earlier = (await engine.inspect([reuseTag])).get(reuseTag)?.Id;
      if (earlier) {
        console.log(`${project}: reusing ${earlier}, bootstrapped earlier from the same settings (to bootstrap anew: docker rmi ${reuseTag})`);
        id = earlier;
      } else {
        id = await bootstrap(engine, os, labels, work, signal);
        await engine.tag(id, reuseTag);
      }
    }
    await tagImage(engine, id, options.tags);
    const registry = pushRegistryOf(config);
    const pushed = registry ? [await pushByDigest(engine, registry, id, options.tags[0])] : [];
    writeRecord(context.root, {
      schema: 1, project, stage: options.stage, line: null, image: id, tags: options.tags, upstream: null,
      platform: options.platform, inputHash: process.env.NX_TASK_HASH ?? 'unknown', pushed,
    });
    console.log(`${project}: ${id} tagged ${options.tags.join(', ')}`);
    return { success: true };
  } catch (e) {
    removeRecord(context.root, project);
    reportFailure(project, e as Error);
    return { success: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
