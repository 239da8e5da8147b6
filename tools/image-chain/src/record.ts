// The image record: the file that stands for an image in Nx's cache (the target's only output).
// An image lives in the engine, not on disk; the record names it by ID so that a cache hit can be
// checked against the engine, and downstream stages hash the ID, not a mutable tag.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod/mini';
import './zod-messages';

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

export const recordSchema = z.strictObject({
  // 2: names left the record (tags are applied to the recorded image, never part of it).
  schema: z.literal(2),
  project: z.string(),
  stage: z.string(),
  line: z.nullable(z.string()),
  image: z.string().check(z.regex(IMAGE_ID)),
  upstream: z.nullable(z.object({ project: z.string(), image: z.string().check(z.regex(IMAGE_ID)) })),
  platform: z.string(),
  inputHash: z.string(),
  // "registry/stage@sha256:..." where the build pushed the image by digest (none without a registry).
  pushed: z._default(z.array(z.string()), []),
});

export type ImageRecord = z.infer<typeof recordSchema>;

export const RECORD_FILE = 'image.json';
/** Holds only the image ID: what downstream stages put in their cache key. */
export const ID_FILE = 'image.id';

export class RecordError extends Error {}

/** Where a project's record lives, relative to the workspace root. */
export function recordDir(project: string): string {
  return `dist/images/${project}`;
}

/** Where docker-push writes what it published for an image project (its only output). */
export function pushRecordDir(project: string): string {
  return `dist/pushes/${project}`;
}

/** Writes a file whole or not at all (a temporary file renamed over it). */
export function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeRecord(workspaceRoot: string, record: ImageRecord): void {
  const dir = join(workspaceRoot, recordDir(record.project));
  const checked = recordSchema.parse(record);
  // The ID file goes last: a record without its ID file is incomplete and is never hashed downstream.
  writeAtomically(join(dir, RECORD_FILE), `${JSON.stringify(checked, null, 2)}\n`);
  writeAtomically(join(dir, ID_FILE), `${checked.image}\n`);
}

/** Removes a project's record, so that a failed or interrupted build leaves none behind. */
export function removeRecord(workspaceRoot: string, project: string): void {
  rmSync(join(workspaceRoot, recordDir(project)), { recursive: true, force: true });
}

/** Reads and validates a record; a missing, truncated or edited one is an error, never trusted. */
export function readRecord(workspaceRoot: string, project: string): ImageRecord {
  const dir = recordDir(project);
  let raw: unknown;
  let id: string;
  try {
    raw = JSON.parse(readFileSync(join(workspaceRoot, dir, RECORD_FILE), 'utf8'));
    id = readFileSync(join(workspaceRoot, dir, ID_FILE), 'utf8').trim();
  } catch (e) {
    throw new RecordError(`The image record of ${project} (${dir}/${RECORD_FILE}) is missing or unreadable: ${(e as Error).message}`);
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RecordError(`The image record ${dir}/${RECORD_FILE} is malformed (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  }
  if (parsed.data.project !== project) {
    throw new RecordError(`The image record ${dir}/${RECORD_FILE} belongs to project "${parsed.data.project}", not "${project}"`);
  }
  if (id !== parsed.data.image) {
    throw new RecordError(`The image record ${dir}/${RECORD_FILE} names ${parsed.data.image} but ${dir}/${ID_FILE} names ${id}: the record was edited`);
  }
  return parsed.data;
}

export function tryReadRecord(workspaceRoot: string, project: string): ImageRecord | null {
  try {
    return readRecord(workspaceRoot, project);
  } catch {
    return null;
  }
}
