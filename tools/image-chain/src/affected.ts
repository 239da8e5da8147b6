// `nx affected` sees files, and the versions file belongs to no project: a change there would
// touch nothing, or (owned by some project) everything. This maps a change of the versions file
// to the image projects whose resolved settings really changed, so CI rebuilds just those.
import { parseConfig, type ChainConfig } from './config';
import { buildChainModel } from './model';

/** Image projects whose rendered options differ between two versions of the versions file. */
export function projectsChangedByConfig(workspaceRoot: string, stageFiles: string[], before: unknown, after: ChainConfig, configFile: string): string[] {
  const now = buildChainModel(workspaceRoot, stageFiles, after, configFile).images;
  let then: Map<string, string>;
  try {
    const old = buildChainModel(workspaceRoot, stageFiles, parseConfig(before, configFile), configFile).images;
    then = new Map(old.map((i) => [i.name, JSON.stringify(i.options)]));
  } catch {
    return now.map((i) => i.name); // the old file did not load: treat every image as changed
  }
  return now.filter((i) => then.get(i.name) !== JSON.stringify(i.options)).map((i) => i.name);
}
