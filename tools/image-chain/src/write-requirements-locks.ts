// `npm run lock`: rewrites every stage's requirements lock (images/<stage>/lines/<line>/
// requirements.lock) from the pins in images/versions.json, with the sha256 of every file PyPI
// has for each pinned version. Run it after changing a pin; commit the locks with the change.
//   node -r @swc-node/register tools/image-chain/src/write-requirements-locks.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { globSync } from 'tinyglobby';
import { configuredFile, loadConfig } from './config';
import { buildChainModel, lockOf, type ImageProject } from './model';
import { PackageIndex } from './package-index';
import { LOCK_COMMAND, renderLock, type LockedRequirement, type RequirementsLockOptions } from './requirements-lock';
import { STAGE_GLOB } from './stage';

/** The lock text for one stage of one line, with hashes from the index. */
export async function lockText(image: ImageProject, lock: RequirementsLockOptions, index: PackageIndex): Promise<string> {
  const requirements: LockedRequirement[] = [];
  const sourceOnly: string[] = [];
  await Promise.all(
    Object.entries(lock.requirements).map(async ([name, version]) => {
      const files = await index.versionFiles(name, version);
      requirements.push({ name, version, hashes: files.hashes });
      if (!files.hasWheel) sourceOnly.push(name);
    }),
  );
  return renderLock({ requirements, sourceOnly }, [
    `What the ${image.stage} image of line ${image.line} installs with pip-install-locked (pip --require-hashes --no-deps).`,
    `Written by \`${LOCK_COMMAND}\` from ${lock.pinnedIn} (requirementsLock in ${image.stageFile}); do not edit.`,
    'Each pin carries the sha256 of every file PyPI has for that version, so pip accepts whichever file it picks.',
  ]);
}

async function main(root: string): Promise<void> {
  const file = configuredFile(root);
  const { images } = buildChainModel(root, globSync(STAGE_GLOB, { cwd: root }), loadConfig(root, file), file);
  const index = new PackageIndex();
  for (const image of images) {
    const lock = lockOf(image);
    if (!lock) continue;
    const text = await lockText(image, lock, index);
    const path = join(root, lock.file);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (before === text) {
      console.log(`unchanged  ${lock.file}`);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`${before === null ? 'written  ' : 'updated  '}  ${lock.file} (${Object.keys(lock.requirements).length} packages)`);
  }
}

if (require.main === module) {
  main(process.cwd()).catch((e) => {
    console.error(`${LOCK_COMMAND}: ${(e as Error).message}`);
    process.exit(1);
  });
}
