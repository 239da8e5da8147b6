// A stage's requirements lock (images/<stage>/lines/<line>/requirements.lock): the exact pins the
// stage installs, each with the sha256 of every file the package index has for that version.
// The images install it with `pip install --require-hashes --no-deps`, so a file that differs
// from the one locked (a replaced upload, a tampering mirror or proxy) fails the build. The lock
// is derived from the versions file by `npm run lock`; the build refuses a lock that disagrees
// with the pins, so an edited pin can never build from a stale lock.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, normalizeName } from './config';

/** The lock's file name, in the stage's line folder (merged into the build context's root). */
export const REQUIREMENTS_LOCK = 'requirements.lock';
export const LOCK_COMMAND = 'npm run lock';

export interface LockedRequirement {
  name: string;
  version: string;
  /** sha256 (hex) of every file the index has for this version. */
  hashes: string[];
}

export interface RequirementsLock {
  requirements: LockedRequirement[];
  /** Packages the index has no wheel of: pip builds them from their (hashed) source archive. */
  sourceOnly: string[];
}

/** What the executor checks a lock against: the stage's rendered pins. */
export interface RequirementsLockOptions {
  /** Workspace-relative path of the lock. */
  file: string;
  /** Where the pins come from, for messages. */
  pinnedIn: string;
  /** Normalized package name → exact version. */
  requirements: Record<string, string>;
}

export class RequirementsLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequirementsLockError';
  }
}

const PIN = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)$/;
const SHA256 = /^--hash=sha256:([0-9a-f]{64})$/;

/**
 * Parses rendered requirement templates ("numpy==1.26.4 scipy==1.15.3", as `{pins.base}` renders)
 * into normalized name → version. `where` names the stage file field for errors.
 */
export function parseRequirementList(texts: string[], where: string): Record<string, string> {
  const requirements: Record<string, string> = {};
  for (const word of texts.join(' ').split(/\s+/).filter(Boolean)) {
    const m = PIN.exec(word);
    if (!m) throw new ConfigError(`${where}: "${word}" is not an exact pin like "numpy==1.26.4"`);
    const name = normalizeName(m[1]);
    if (name in requirements && requirements[name] !== m[2]) {
      throw new ConfigError(`${where}: ${name} is pinned twice (${requirements[name]} and ${m[2]})`);
    }
    requirements[name] = m[2];
  }
  return requirements;
}

/** The lock file's text: a pip requirements file, stable for the same pins and index contents. */
export function renderLock(lock: RequirementsLock, header: string[]): string {
  const out = header.map((l) => `# ${l}`.trimEnd());
  const sourceOnly = [...lock.sourceOnly].map(normalizeName).sort();
  if (sourceOnly.length) {
    out.push('', '# The index has no wheel of these versions: pip builds them from their hashed source archive.');
    out.push(`--no-binary ${sourceOnly.join(',')}`);
  }
  out.push('');
  for (const r of [...lock.requirements].sort((a, b) => normalizeName(a.name).localeCompare(normalizeName(b.name)))) {
    const hashes = [...new Set(r.hashes)].sort().map((h) => `    --hash=sha256:${h}`);
    out.push([`${normalizeName(r.name)}==${r.version}`, ...hashes].join(' \\\n'));
  }
  return `${out.join('\n')}\n`;
}

/** Reads a lock written by renderLock; anything else in it is refused, naming the line. */
export function parseLock(text: string, file: string): RequirementsLock {
  const lock: RequirementsLock = { requirements: [], sourceOnly: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let logical = lines[i];
    while (logical.endsWith('\\') && i + 1 < lines.length) logical = `${logical.slice(0, -1)} ${lines[++i]}`;
    const words = logical.replace(/(^|\s)#.*$/, '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const unreadable = () =>
      new RequirementsLockError(`${file}:${lineNo}: cannot read "${words.join(' ').slice(0, 80)}"; run \`${LOCK_COMMAND}\` to rewrite the lock`);
    if (words[0] === '--no-binary' && words.length === 2) {
      lock.sourceOnly.push(...words[1].split(',').filter(Boolean).map(normalizeName));
      continue;
    }
    const pin = PIN.exec(words[0]);
    if (!pin) throw unreadable();
    const hashes = words.slice(1).map((w) => SHA256.exec(w)?.[1]);
    if (hashes.some((h) => h === undefined)) throw unreadable();
    if (hashes.length === 0) {
      throw new RequirementsLockError(`${file}:${lineNo}: ${pin[1]}==${pin[2]} has no --hash; run \`${LOCK_COMMAND}\` to rewrite the lock`);
    }
    lock.requirements.push({ name: normalizeName(pin[1]), version: pin[2], hashes: hashes as string[] });
  }
  return lock;
}

export interface LockDifference {
  name: string;
  /** The version in the lock, or null when the lock lacks the package. */
  locked: string | null;
  /** The pinned version, or null when the package is no longer pinned. */
  pinned: string | null;
}

/** Where a lock and the pins disagree, by package name. Empty: the lock holds exactly the pins. */
export function lockDifferences(lock: RequirementsLock, pins: Record<string, string>): LockDifference[] {
  const locked = new Map(lock.requirements.map((r) => [normalizeName(r.name), r.version]));
  const wanted = new Map(Object.entries(pins).map(([name, version]) => [normalizeName(name), version]));
  const differences: LockDifference[] = [];
  for (const name of [...new Set([...locked.keys(), ...wanted.keys()])].sort()) {
    const l = locked.get(name) ?? null;
    const p = wanted.get(name) ?? null;
    if (l !== p) differences.push({ name, locked: l, pinned: p });
  }
  return differences;
}

function describe(d: LockDifference, pinnedIn: string): string {
  if (d.locked === null) return `${d.name}: not in the lock; ${pinnedIn} pins ${d.pinned}`;
  if (d.pinned === null) return `${d.name}: the lock has ${d.locked}; ${pinnedIn} no longer pins it`;
  return `${d.name}: the lock has ${d.locked}; ${pinnedIn} pins ${d.pinned}`;
}

/** Refuses (throws) unless the stage's lock exists, reads, and holds exactly its pins. */
export function checkRequirementsLock(workspaceRoot: string, options: RequirementsLockOptions): void {
  const fix = `Run \`${LOCK_COMMAND}\` to rewrite the locks from ${options.pinnedIn} (it fetches the hashes from PyPI), then build again.`;
  const path = join(workspaceRoot, options.file);
  if (!existsSync(path)) throw new RequirementsLockError(`${options.file} is missing: the stage installs its pinned packages only from it.\n${fix}`);
  const differences = lockDifferences(parseLock(readFileSync(path, 'utf8'), options.file), options.requirements);
  if (differences.length) {
    throw new RequirementsLockError(
      [`${options.file} is out of date with ${options.pinnedIn}:`, ...differences.map((d) => `  ${describe(d, options.pinnedIn)}`), fix].join('\n'),
    );
  }
}
