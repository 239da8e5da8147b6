import { describe, expect, it } from 'vitest';
import { describeProblems, staleProjects } from './chain-checks';
import type { ImageInfo } from './engines/engine';
import type { ImageRecord } from './record';

const id = (c: string) => `sha256:${c.repeat(64)}`;

function info(image: string, layers: string[]): ImageInfo {
  return { Id: image, RepoTags: [], RepoDigests: [], Parent: '', Architecture: 'amd64', Os: 'linux', Config: { Labels: null, Env: null }, RootFS: { Layers: layers } };
}

function record(project: string, image: string, upstream: { project: string; image: string } | null): ImageRecord {
  return { schema: 2, project, stage: project, line: '1.4-2', image, upstream, platform: 'linux/amd64', inputHash: '1', pushed: [] };
}

describe('staleProjects', () => {
  const os = record('os', id('0'), null);
  const base = record('base', id('1'), { project: 'os', image: id('0') });
  const final = record('final', id('2'), { project: 'base', image: id('1') });
  const engine = new Map([
    [id('0'), info(id('0'), ['l0'])],
    [id('1'), info(id('1'), ['l0', 'l1'])],
    [id('2'), info(id('2'), ['l0', 'l1', 'l2'])],
  ]);
  const records = (...list: ImageRecord[]) => new Map(list.map((r) => [r.project, r]));

  it('finds none in a chain where each image extends the upstream recorded with it', () => {
    expect(staleProjects(records(os, base, final), engine, new Set())).toEqual([]);
  });

  it('finds a stage whose upstream was recorded as another image in this run', () => {
    const rebuiltBase = record('base', id('3'), { project: 'os', image: id('0') });
    expect(staleProjects(records(os, rebuiltBase, final), engine, new Set())).toEqual(['final']);
  });

  it('finds a stage whose layers do not extend its upstream\'s', () => {
    const known = new Map(engine).set(id('2'), info(id('2'), ['l0', 'other', 'l2']));
    expect(staleProjects(records(os, base, final), known, new Set())).toEqual(['final']);
  });

  it('judges by layers alone when the upstream is not part of the run', () => {
    expect(staleProjects(records(final), engine, new Set())).toEqual([]);
    expect(staleProjects(records(final), new Map(engine).set(id('1'), info(id('1'), ['x'])), new Set())).toEqual(['final']);
  });

  it('leaves out stages already missing, and stages whose images the engine does not hold', () => {
    const rebuiltBase = record('base', id('3'), { project: 'os', image: id('0') });
    expect(staleProjects(records(os, rebuiltBase, final), engine, new Set(['final']))).toEqual([]);
    expect(staleProjects(records(os, base, final), new Map(), new Set())).toEqual([]);
  });
});

describe('describeProblems', () => {
  it('gives one line per missing stage with its reason, then one per stale stage', () => {
    expect(describeProblems(new Map([['base', 'its image sha256:1 is not in the engine']]), ['final', 'extension'])).toEqual([
      '  - base: its image sha256:1 is not in the engine',
      '  - final: was built FROM an upstream image that is no longer the recorded one',
      '  - extension: was built FROM an upstream image that is no longer the recorded one',
    ]);
    expect(describeProblems(new Map(), [])).toEqual([]);
  });
});
