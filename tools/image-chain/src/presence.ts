// Keeps the promise "a recorded image is in the engine": check by ID, restore what can be
// restored (pull by the pushed digest), and say exactly what to do when nothing can.
import { Engine, EngineError, type ImageInfo } from './engine';
import { readRecord, RecordError, type ImageRecord } from './record';

export class MissingImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingImageError';
  }
}

/** Makes the recorded image present (pulling by digest if it was pushed); returns its inspect data. */
export async function ensurePresent(engine: Engine, record: ImageRecord, known?: Map<string, ImageInfo>): Promise<ImageInfo> {
  const local = known?.get(record.image) ?? (await engine.inspect([record.image])).get(record.image);
  if (local) return local;
  for (const ref of record.pushed) {
    try {
      await engine.pull(ref);
    } catch (e) {
      if (e instanceof EngineError && /No Docker engine/.test(e.message)) throw e;
      console.warn(`${record.project}: could not pull ${ref}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const pulled = (await engine.inspect([ref])).get(ref);
    if (pulled && pulled.Id === record.image) return pulled;
    // A digest that does not give the recorded image is refused, never used.
    if (pulled) await engine.removeTag(ref);
    console.warn(`${record.project}: ${ref} is image ${pulled?.Id ?? 'none'}, not the recorded ${record.image}; refused`);
  }
  throw new MissingImageError(
    `The ${record.project} image ${record.image} (recorded in dist/images/${record.project}/image.json) is not in the engine` +
      (record.pushed.length ? ' and could not be pulled from the registry' : ' and was never pushed to a registry'),
  );
}

/** The upstream a stage builds FROM: its record, checked against the engine. */
export async function ensureUpstream(root: string, engine: Engine, upstream: string, project: string): Promise<ImageRecord & { info: ImageInfo }> {
  let record: ImageRecord;
  try {
    record = readRecord(root, upstream);
  } catch (e) {
    if (e instanceof RecordError) throw new MissingImageError(`${project} builds FROM ${upstream}, but ${e.message}. Run "nx run ${project}:docker-build" (it builds ${upstream} first).`);
    throw e;
  }
  try {
    return { ...record, info: await ensurePresent(engine, record) };
  } catch (e) {
    if (e instanceof MissingImageError) {
      throw new MissingImageError(`${project} builds FROM ${upstream}: ${e.message}. Rebuild it with "nx run ${upstream}:docker-build --skip-nx-cache", then run again.`);
    }
    throw e;
  }
}

/** Proves the image was built FROM the upstream: the upstream's layers are a prefix of its own. */
export function isBuiltFrom(image: ImageInfo, upstream: ImageInfo): boolean {
  const mine = image.RootFS.Layers ?? [];
  const theirs = upstream.RootFS.Layers ?? [];
  return theirs.length <= mine.length && theirs.every((layer, i) => mine[i] === layer);
}

/** Points every tag at the image; tags already there are left alone. */
export async function tagImage(engine: Engine, info: ImageInfo | string, tags: string[]): Promise<void> {
  const id = typeof info === 'string' ? info : info.Id;
  const present = typeof info === 'string' ? [] : (info.RepoTags ?? []);
  for (const tag of tags) if (!present.includes(tag)) await engine.tag(id, tag);
}
