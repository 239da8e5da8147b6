// The task hooks' decisions, as pure functions of what the records say and the engine holds.
import type { ImageInfo } from './engines/engine';
import { isBuiltFrom } from './presence';
import type { ImageRecord } from './record';

/**
 * Stages of a run that no longer extend exactly the upstream recorded in it: the upstream's
 * record names another image, or the image's layers do not extend the upstream's.
 */
export function staleProjects(records: ReadonlyMap<string, ImageRecord>, known: ReadonlyMap<string, ImageInfo>, missing: ReadonlySet<string>): string[] {
  const stale: string[] = [];
  for (const [project, record] of records) {
    if (!record.upstream || missing.has(project)) continue;
    const upstream = records.get(record.upstream.project);
    const upInfo = known.get(record.upstream.image);
    const mine = known.get(record.image);
    if ((upstream && upstream.image !== record.upstream.image) || (upInfo && mine && !isBuiltFrom(mine, upInfo))) stale.push(project);
  }
  return stale;
}

/** The failure report of a run whose stages are missing or stale, one line per stage. */
export function describeProblems(missing: ReadonlyMap<string, string>, stale: readonly string[]): string[] {
  return [
    ...[...missing].map(([project, why]) => `  - ${project}: ${why}`),
    ...stale.map((project) => `  - ${project}: was built FROM an upstream image that is no longer the recorded one`),
  ];
}
