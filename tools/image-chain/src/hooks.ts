// Task hooks: a cache hit of an image stage is only a success if the recorded image is in the
// engine. After every run, cached or not, each image stage's record is checked against the
// engine, restored where possible (pull by pushed digest) and re-tagged; what cannot be restored
// is taken out of the local cache and reported, so the next run rebuilds it.
import type { PostTasksExecution, PreTasksExecution } from '@nx/devkit';
import { loadConfig } from './config';
import { Engine } from './engine';
import { DOCKER_BUILD } from './plugin';
import { ensurePresent, isBuiltFrom, MissingImageError, tagImage } from './presence';
import { readRecord, RecordError, removeRecord, type ImageRecord } from './record';
import { evictCacheEntry } from './nx-cache';

const CACHED = new Set(['local-cache', 'local-cache-kept-existing', 'remote-cache']);

export const preTasksExecution: PreTasksExecution = async () => {};

export const postTasksExecution: PostTasksExecution = async (_options, context) => {
  const results = Object.values(context.taskResults).filter(
    (r) => r.task.target.target === DOCKER_BUILD && (r.status === 'success' || CACHED.has(r.status)),
  );
  if (results.length === 0) return;
  const { docker } = loadConfig(context.workspaceRoot);
  const engine = new Engine(docker.client, docker.network);

  const records = new Map<string, ImageRecord>();
  const problems: string[] = [];
  for (const r of results) {
    try {
      records.set(r.task.target.project, readRecord(context.workspaceRoot, r.task.target.project));
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      problems.push(`${r.task.target.project}: ${e.message}`);
      evictCacheEntry(context.workspaceRoot, r.task.hash!);
    }
  }
  const known = await engine.inspect([...new Set([...records.values()].flatMap((rec) => [rec.image, ...(rec.upstream ? [rec.upstream.image] : [])]))]);

  for (const r of results) {
    const project = r.task.target.project;
    const record = records.get(project);
    if (!record) continue;
    try {
      const info = await ensurePresent(engine, record, known);
      known.set(record.image, info);
      const upstream = record.upstream ? known.get(record.upstream.image) : undefined;
      if (record.upstream && upstream && !isBuiltFrom(info, upstream)) {
        throw new MissingImageError(`${project}: the image ${record.image} does not extend its recorded upstream ${record.upstream.image}`);
      }
      await tagImage(engine, info, record.tags);
    } catch (e) {
      if (!(e instanceof MissingImageError)) throw e;
      // The cache entry points at an image nobody can produce: it must not be served again.
      if (r.task.hash) evictCacheEntry(context.workspaceRoot, r.task.hash);
      removeRecord(context.workspaceRoot, project);
      problems.push(`${project}: ${e.message}`);
    }
  }
  if (problems.length) {
    throw new Error(
      [
        'Some image stages reported by this run are not in the Docker engine:',
        ...problems.map((p) => `  - ${p}`),
        'Their cache entries were removed: run the same command again to rebuild them (and the stages built FROM them).',
      ].join('\n'),
    );
  }
};
