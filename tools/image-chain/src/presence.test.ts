import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageInfo } from './engines/engine';
import { ensurePresent, isBuiltFrom, MissingImageError, presentImage, restoreRecorded, type ImageStore } from './presence';
import { writeRecord, type ImageRecord } from './record';

const id = (c: string) => `sha256:${c.repeat(64)}`;
const digestRef = (c: string) => `registry.test/base@sha256:${c.repeat(64)}`;

function info(image: string, layers: string[] = []): ImageInfo {
  return { Id: image, RepoTags: [], RepoDigests: [], Parent: '', Architecture: 'amd64', Os: 'linux', Config: { Labels: null, Env: null }, RootFS: { Layers: layers } };
}

/** An engine in memory: local images by ID, and what each registry reference would pull. */
class FakeStore implements ImageStore {
  readonly local = new Map<string, ImageInfo>();
  readonly registry = new Map<string, ImageInfo>();
  readonly calls: string[] = [];
  pullFails: Error | null = null;

  async inspect(refs: string[]): Promise<Map<string, ImageInfo>> {
    const found = new Map<string, ImageInfo>();
    for (const ref of refs) {
      const image = [...this.local.values()].find((i) => i.Id === ref || (i.RepoTags ?? []).includes(ref) || (i.RepoDigests ?? []).includes(ref));
      if (image) found.set(ref, image);
    }
    return found;
  }

  async pull(ref: string): Promise<void> {
    this.calls.push(`pull ${ref}`);
    if (this.pullFails) throw this.pullFails;
    const remote = this.registry.get(ref);
    if (!remote) throw new Error(`manifest unknown: ${ref}`);
    const image = this.local.get(remote.Id) ?? { ...remote, RepoDigests: [] };
    image.RepoDigests = [...(image.RepoDigests ?? []), ref];
    this.local.set(image.Id, image);
  }

  async removeTag(ref: string): Promise<void> {
    this.calls.push(`removeTag ${ref}`);
    for (const image of this.local.values()) {
      image.RepoTags = (image.RepoTags ?? []).filter((t) => t !== ref);
      image.RepoDigests = (image.RepoDigests ?? []).filter((t) => t !== ref);
    }
  }
}

function record(image: string, pushed: string[] = []): ImageRecord {
  return { schema: 2, project: 'base', stage: 'base', line: '1.4-2', image, upstream: null, platform: 'linux/amd64', inputHash: '1', pushed };
}

let warnings: string[];
beforeEach(() => {
  warnings = [];
  vi.spyOn(console, 'warn').mockImplementation((m: string) => void warnings.push(m));
});
afterEach(() => vi.restoreAllMocks());

describe('restoreRecorded', () => {
  it('finds the recorded image in the engine, pulling nothing', async () => {
    const store = new FakeStore();
    store.local.set(id('1'), info(id('1')));
    expect((await restoreRecorded(store, record(id('1'), [digestRef('d')])))?.Id).toBe(id('1'));
    expect(store.calls).toEqual([]);
  });

  it('pulls a missing image back by the digest it was pushed under', async () => {
    const store = new FakeStore();
    store.registry.set(digestRef('d'), info(id('1')));
    expect((await restoreRecorded(store, record(id('1'), [digestRef('d')])))?.Id).toBe(id('1'));
    expect(store.calls).toEqual([`pull ${digestRef('d')}`]);
  });

  it('refuses a digest that gives another image, removing that reference, and tries the next one', async () => {
    const store = new FakeStore();
    store.registry.set(digestRef('e'), info(id('2')));
    store.registry.set(digestRef('d'), info(id('1')));
    const restored = await restoreRecorded(store, record(id('1'), [digestRef('e'), digestRef('d')]));
    expect(restored?.Id).toBe(id('1'));
    expect(store.calls).toEqual([`pull ${digestRef('e')}`, `removeTag ${digestRef('e')}`, `pull ${digestRef('d')}`]);
    expect(store.local.get(id('2'))?.RepoDigests).toEqual([]);
    expect(warnings.join('\n')).toContain(`${digestRef('e')} is image ${id('2')}, not the recorded ${id('1')}; refused`);
  });

  it('gives nothing for an image neither present nor pullable, warning about a failed pull', async () => {
    const store = new FakeStore();
    expect(await restoreRecorded(store, record(id('1'), [digestRef('d')]))).toBeUndefined();
    expect(warnings.join('\n')).toContain(`base: could not pull ${digestRef('d')}: manifest unknown`);
    expect(await restoreRecorded(store, record(id('1')))).toBeUndefined();
  });

  it('passes a lost engine on rather than trying the next digest', async () => {
    const store = new FakeStore();
    store.pullFails = new Error('No Docker engine answers at unix:///nowhere.sock');
    await expect(restoreRecorded(store, record(id('1'), [digestRef('d'), digestRef('e')]))).rejects.toThrow(/No Docker engine/);
    expect(store.calls).toEqual([`pull ${digestRef('d')}`]);
  });
});

describe('ensurePresent', () => {
  it('names the record and whether the image was ever pushed', async () => {
    const store = new FakeStore();
    await expect(ensurePresent(store, record(id('1')))).rejects.toThrow(
      new MissingImageError(`The base image ${id('1')} (recorded in dist/images/base/image.json) is not in the engine and was never pushed to a registry`),
    );
    await expect(ensurePresent(store, record(id('1'), [digestRef('d')]))).rejects.toThrow(/and could not be pulled from the registry/);
  });
});

describe('presentImage', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'presence-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A rebuild that makes `image` and records it, as the real docker-build does. */
  const rebuildTo = (store: FakeStore, image: string) => vi.fn(async (project: string) => {
    store.local.set(image, info(image));
    writeRecord(root, { ...record(image), project });
  });

  it('uses the recorded image when it is present, rebuilding nothing', async () => {
    const store = new FakeStore();
    store.local.set(id('1'), info(id('1')));
    writeRecord(root, record(id('1')));
    const rebuild = rebuildTo(store, id('9'));
    expect((await presentImage(root, store, 'base', rebuild)).info.Id).toBe(id('1'));
    expect(rebuild).not.toHaveBeenCalled();
  });

  it('pulls it back when it was pushed, rebuilding nothing', async () => {
    const store = new FakeStore();
    store.registry.set(digestRef('d'), info(id('1')));
    writeRecord(root, record(id('1'), [digestRef('d')]));
    const rebuild = rebuildTo(store, id('9'));
    expect((await presentImage(root, store, 'base', rebuild)).image).toBe(id('1'));
    expect(rebuild).not.toHaveBeenCalled();
  });

  it('rebuilds when the record is missing, then reads the record the rebuild wrote', async () => {
    const store = new FakeStore();
    const rebuild = rebuildTo(store, id('2'));
    const present = await presentImage(root, store, 'base', rebuild);
    expect(rebuild).toHaveBeenCalledWith('base');
    expect(present.image).toBe(id('2'));
    expect(present.info.Id).toBe(id('2'));
    expect(warnings.join('\n')).toMatch(/image record of base .* is missing or unreadable.*: rebuilding it in this run/);
  });

  it('rebuilds when the recorded image is gone and cannot be pulled', async () => {
    const store = new FakeStore();
    writeRecord(root, record(id('1'), [digestRef('d')]));
    const rebuild = rebuildTo(store, id('2'));
    const present = await presentImage(root, store, 'base', rebuild);
    expect(rebuild).toHaveBeenCalledTimes(1);
    expect(present.image).toBe(id('2'));
    expect(warnings.join('\n')).toContain(`The base image ${id('1')} (recorded in dist/images/base/image.json) is not in the engine and could not be pulled from the registry: rebuilding it in this run`);
  });

  it('fails when the rebuild leaves no image as recorded', async () => {
    const store = new FakeStore();
    const rebuild = vi.fn(async () => writeRecord(root, record(id('3'))));
    await expect(presentImage(root, store, 'base', rebuild)).rejects.toThrow(MissingImageError);
  });
});

describe('isBuiltFrom', () => {
  it('holds when the upstream\'s layers are a prefix of the image\'s', () => {
    expect(isBuiltFrom(info(id('2'), ['a', 'b', 'c']), info(id('1'), ['a', 'b']))).toBe(true);
    expect(isBuiltFrom(info(id('2'), ['a', 'b']), info(id('1'), ['a', 'b']))).toBe(true);
    expect(isBuiltFrom(info(id('2'), ['a', 'x', 'c']), info(id('1'), ['a', 'b']))).toBe(false);
    expect(isBuiltFrom(info(id('2'), ['a']), info(id('1'), ['a', 'b']))).toBe(false);
  });
});
