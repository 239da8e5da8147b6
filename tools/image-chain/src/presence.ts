// Keeps the promise "a recorded image is in the engine" for every task that uses one (a
// container test, a push, a stage built FROM it): the image as recorded, else pulled by its
// pushed digest, else rebuilt in this same run. Whatever a cache hit restored, no task starts
// on a missing image.
import { execa } from 'execa';
import { join } from 'node:path';
import type { ImageInfo } from './engines/engine';
import { readRecord, RecordError, type ImageRecord } from './record';
import { DOCKER_BUILD } from './targets';

/** What presence asks of an engine (the Engine class; a fake one in unit tests). */
export interface ImageStore {
  inspect(refs: string[]): Promise<Map<string, ImageInfo>>;
  pull(ref: string): Promise<void>;
  removeTag(ref: string): Promise<void>;
}

/** Rebuilds a project's image stage in this run (its record is then rewritten). */
export type Rebuild = (project: string) => Promise<void>;

export class MissingImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingImageError';
  }
}

const NO_ENGINE = /No Docker engine/;

/** The recorded image, present or pulled back by a pushed digest; undefined if neither. */
export async function restoreRecorded(engine: ImageStore, record: ImageRecord, known?: Map<string, ImageInfo>): Promise<ImageInfo | undefined> {
  const local = known?.get(record.image) ?? (await engine.inspect([record.image])).get(record.image);
  if (local) return local;
  for (const ref of record.pushed) {
    try {
      await engine.pull(ref);
    } catch (e) {
      if (NO_ENGINE.test((e as Error).message)) throw e;
      console.warn(`${record.project}: could not pull ${ref}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const pulled = (await engine.inspect([ref])).get(ref);
    if (pulled && pulled.Id === record.image) return pulled;
    // A digest that does not give the recorded image is refused, never used.
    if (pulled) await engine.removeTag(ref);
    console.warn(`${record.project}: ${ref} is image ${pulled?.Id ?? 'none'}, not the recorded ${record.image}; refused`);
  }
  return undefined;
}

/** What a record whose image is neither in the engine nor pullable is told. */
export function missingImage(record: ImageRecord): MissingImageError {
  return new MissingImageError(
    `The ${record.project} image ${record.image} (recorded in dist/images/${record.project}/image.json) is not in the engine` +
      (record.pushed.length ? ' and could not be pulled from the registry' : ' and was never pushed to a registry'),
  );
}

/** Makes the recorded image present (pulling by digest if it was pushed); returns its inspect data. */
export async function ensurePresent(engine: ImageStore, record: ImageRecord, known?: Map<string, ImageInfo>): Promise<ImageInfo> {
  const info = await restoreRecorded(engine, record, known);
  if (!info) throw missingImage(record);
  return info;
}

/**
 * A project's image for a task that uses it: as recorded, pulled, or (its record missing, or
 * its image gone for good) rebuilt in this run by `rebuild` (its docker-build, through nx), then
 * checked again.
 */
export async function presentImage(
  root: string, engine: ImageStore, project: string, rebuild: Rebuild = rebuildWithNx(root, DOCKER_BUILD),
): Promise<ImageRecord & { info: ImageInfo }> {
  let record: ImageRecord | null = null;
  try {
    record = readRecord(root, project);
    const info = await restoreRecorded(engine, record);
    if (info) return { ...record, info };
    console.warn(`${missingImage(record).message}: rebuilding it in this run`);
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    console.warn(`${e.message}: rebuilding it in this run`);
  }
  await rebuild(project);
  const rebuilt = readRecord(root, project);
  return { ...rebuilt, info: await ensurePresent(engine, rebuilt) };
}

/** Proves the image was built FROM the upstream: the upstream's layers are a prefix of its own. */
export function isBuiltFrom(image: ImageInfo, upstream: ImageInfo): boolean {
  const mine = image.RootFS.Layers ?? [];
  const theirs = upstream.RootFS.Layers ?? [];
  return theirs.length <= mine.length && theirs.every((layer, i) => mine[i] === layer);
}

/** Set in the nested run, so that it never starts another. */
export const REBUILD_ENV = 'IMAGE_CHAIN_REBUILDING';

/**
 * The real Rebuild: the project's docker-build, run now through the nx CLI bypassing the cache
 * (the entry that named the lost image is overwritten with the new one). Its upstream is made
 * present the same way, by its own build task.
 */
export function rebuildWithNx(root: string, target: string): Rebuild {
  return async (project) => {
    if (process.env[REBUILD_ENV]?.split(',').includes(project)) {
      throw new MissingImageError(`${project}: rebuilding it did not give an image as recorded; run "nx run ${project}:${target} --skip-nx-cache"`);
    }
    const nx = join(root, 'node_modules/nx/dist/bin/nx.js');
    const env = { [REBUILD_ENV]: [process.env[REBUILD_ENV], project].filter(Boolean).join(',') };
    const result = await execa(process.execPath, [nx, 'run', `${project}:${target}`, '--skip-nx-cache', '--exclude-task-dependencies', '--output-style=stream'], {
      cwd: root, env, stdio: 'inherit', reject: false,
    });
    if (result.exitCode !== 0) throw new MissingImageError(`rebuilding ${project} in this run failed (see above)`);
  };
}
