// One image stage's run, whatever makes its image: a Dockerfile build FROM the upstream, or the
// OS image. The steps around the making are the same for both: one run of a stage at a time,
// a concurrent run's identical result reused, no record while it runs, a scratch folder,
// interruption that cleans up, the image checked, pushed by digest, recorded last, and a
// failure that says what happened and leaves nothing cached.
import type { ExecutorContext } from '@nx/devkit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushRegistryOf } from './config';
import { engineFor } from './engines';
import type { ContainerEngine, ImageInfo } from './engines/engine';
import { withProjectLock } from './lock';
import type { EngineSettings } from './options';
import { isBuiltFrom } from './presence';
import { pushByDigest } from './publish';
import { removeRecord, tryReadRecord, writeRecord, type ImageRecord } from './record';
import { reportFailure } from './report';

export interface StageRun {
  project: string;
  root: string;
  engine: ContainerEngine;
  /** A scratch folder, removed afterwards. */
  work: string;
  signal: AbortSignal;
  /** The other projects' roots (an artifact's sources are inputs of the revision label). */
  projectRoot(name: string): string | undefined;
}

export interface MadeImage {
  image: string;
  /** The upstream it was built FROM, with its inspect data; null for the OS. */
  upstream: { project: string; image: string; info: ImageInfo } | null;
}

export interface StageOptions {
  stage: string;
  line?: string | null;
  platform: string;
  registry: string | null;
  engine: EngineSettings;
}

/**
 * Runs a build that SIGINT or SIGTERM can stop cleanly: the signal aborts the engine call, the
 * clean-up runs (no record, scratch folder removed), then the process ends.
 */
async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (controller.signal.aborted) process.exitCode = 130;
  }
}

/** After waiting for a concurrent run: if it built these very inputs, its image is this run's. */
async function builtConcurrently(engine: ContainerEngine, root: string, project: string): Promise<ImageRecord | null> {
  const record = tryReadRecord(root, project);
  if (!record || record.inputHash !== process.env.NX_TASK_HASH) return null;
  return (await engine.inspect([record.image])).has(record.image) ? record : null;
}

/** Runs one image stage: `make` produces the image; everything else is the same for every kind. */
export async function runImageStage(
  options: StageOptions,
  context: ExecutorContext,
  make: (run: StageRun) => Promise<MadeImage>,
): Promise<{ success: boolean }> {
  const project = context.projectName!;
  const root = context.root;
  const engine = engineFor(options.engine);
  return withProjectLock(root, project, (waited) => interruptible(async (signal) => {
    // Only after waiting for another run: a run of its own (--skip-nx-cache, say) builds anew.
    const earlier = waited ? await builtConcurrently(engine, root, project) : null;
    if (earlier) {
      console.log(`${project}: built by a concurrent run with the same inputs: ${earlier.image}`);
      return { success: true };
    }
    removeRecord(root, project); // a failed build must leave no record behind
    const work = mkdtempSync(join(tmpdir(), `image-chain-${project}-`));
    try {
      const projectRoot = (name: string) => context.projectsConfigurations.projects[name]?.root;
      const made = await make({ project, root, engine, work, signal, projectRoot });
      const info = (await engine.inspect([made.image])).get(made.image);
      if (!info) throw new Error(`${project}: the engine has no image ${made.image} after making it`);
      if (made.upstream && !isBuiltFrom(info, made.upstream.info)) {
        throw new Error(`${project}: the built image ${made.image} does not extend ${made.upstream.project} (${made.upstream.image}). Its Dockerfile must start with "ARG UPSTREAM" and "FROM \${UPSTREAM}"`);
      }
      // With a registry, the image travels by digest: another machine's cache hit pulls it.
      const registry = pushRegistryOf(options.registry);
      const pushed = registry ? [await pushByDigest(engine, registry, made.image, options.stage)] : [];
      // The record comes last: no run reports the image as made before it is verified.
      writeRecord(root, {
        schema: 2, project, stage: options.stage, line: options.line ?? null, image: made.image,
        upstream: made.upstream && { project: made.upstream.project, image: made.upstream.image },
        platform: options.platform, inputHash: process.env.NX_TASK_HASH ?? 'unknown', pushed,
      });
      console.log(`${project}: ${made.image} (tags are applied when the run ends)`);
      return { success: true };
    } catch (e) {
      removeRecord(root, project);
      reportFailure(project, e as Error);
      return { success: false };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }));
}
