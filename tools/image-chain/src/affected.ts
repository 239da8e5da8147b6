// `nx affected` sees files, and the versions file belongs to no project: a change there would
// touch nothing, or (owned by some project) everything. This maps a change of the versions file
// to the image projects whose resolved settings really changed, so CI rebuilds just those.
import { parseConfig, type ChainConfig } from './config';
import { buildChainModel, type ImageProject } from './model';

/** Image projects whose rendered options differ between two versions of the versions file. */
export function projectsChangedByConfig(workspaceRoot: string, stageFiles: string[], before: unknown, after: ChainConfig, configFile: string): string[] {
  const now = buildChainModel(workspaceRoot, stageFiles, after, configFile).images;
  let then: Map<string, string>;
  try {
    const old = buildChainModel(workspaceRoot, stageFiles, parseConfig(before, configFile), configFile).images;
    then = new Map(old.map((i) => [i.name, settingsOf(i)]));
  } catch {
    return now.map((i) => i.name); // the old file did not load: treat every image as changed
  }
  return now.filter((i) => then.get(i.name) !== settingsOf(i)).map((i) => i.name);
}

/** What the versions file gives an image project: its build options and the tags it publishes. */
function settingsOf(image: ImageProject): string {
  return JSON.stringify([image.build.options, image.publishTags]);
}
