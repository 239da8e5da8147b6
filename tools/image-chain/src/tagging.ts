// Names are applied to images, never part of them (the rules_oci way): a build records an image
// by ID with no tag, and after every run the task hooks point each stage's tags, as the versions
// file gives them now, at its recorded image. A tag the chain applied earlier that the versions
// file no longer gives is taken off again, where it still points at the image the chain put it
// on. The tags the chain applied are kept in a ledger, so tags a user made are never touched.
// The chain's scaffold names (scaffold-tags.ts) go once the image has its own tags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from './record';
import { isScaffoldTag } from './scaffold-tags';

export const LEDGER_FILE = '.nx/workspace-data/image-chain-tags.json';

/** Tag → the image ID the chain pointed it at. */
export type TagLedger = Record<string, string>;

export interface TaggedImage {
  project: string;
  /** The recorded image ID. */
  image: string;
  /** Its tags in the engine now (RepoTags). */
  present: string[];
  /** The tags the versions file gives it now. */
  wanted: string[];
}

export interface TagPlan {
  add: { tag: string; image: string }[];
  drop: string[];
  ledger: TagLedger;
}

/**
 * What to tag and untag. `allWanted` is every tag of the whole chain (a tag another stage or
 * line wants is never dropped).
 */
export function planTags(images: TaggedImage[], allWanted: ReadonlySet<string>, ledger: TagLedger): TagPlan {
  const next: TagLedger = { ...ledger };
  const add: TagPlan['add'] = [];
  const drop: string[] = [];
  for (const { image, present, wanted } of images) {
    for (const tag of wanted) {
      if (!present.includes(tag)) add.push({ tag, image });
      next[tag] = image;
    }
    for (const tag of present) {
      if (isScaffoldTag(tag) && wanted.length > 0) drop.push(tag);
      else if (ledger[tag] === image && !allWanted.has(tag)) {
        drop.push(tag);
        delete next[tag];
      }
    }
  }
  return { add, drop, ledger: next };
}

export function readLedger(workspaceRoot: string): TagLedger {
  try {
    const parsed = JSON.parse(readFileSync(join(workspaceRoot, LEDGER_FILE), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as TagLedger) : {};
  } catch {
    return {};
  }
}

export function sameLedger(a: TagLedger, b: TagLedger): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function writeLedger(workspaceRoot: string, ledger: TagLedger): void {
  const sorted = Object.fromEntries(Object.entries(ledger).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeAtomically(join(workspaceRoot, LEDGER_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
}

/** What tagging asks of an engine. */
export interface TagStore {
  tag(image: string, tag: string): Promise<void>;
  removeTag(ref: string): Promise<void>;
}

/** Carries out a plan; adds first, so an image never loses its last tag on the way. */
export async function applyTags(engine: TagStore, plan: TagPlan): Promise<void> {
  for (const { tag, image } of plan.add) await engine.tag(image, tag);
  for (const tag of plan.drop) await engine.removeTag(tag);
}
