import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTags, LEDGER_FILE, planTags, readLedger, sameLedger, writeLedger, type TagStore } from './tagging';

const A = 'sha256:aaaa';
const B = 'sha256:bbbb';

describe('planTags', () => {
  it('adds the wanted tags an image lacks, and records them in the ledger', () => {
    const plan = planTags([{ project: 'base', image: A, present: ['r/base:1'], wanted: ['r/base:1', 'r/base:2'] }], new Set(['r/base:1', 'r/base:2']), {});
    expect(plan.add).toEqual([{ tag: 'r/base:2', image: A }]);
    expect(plan.drop).toEqual([]);
    expect(plan.ledger).toEqual({ 'r/base:1': A, 'r/base:2': A });
  });

  it('drops a tag the chain put on the recorded image that no stage wants any more', () => {
    const plan = planTags([{ project: 'base', image: A, present: ['r/base:old', 'r/base:new'], wanted: ['r/base:new'] }], new Set(['r/base:new']), { 'r/base:old': A, 'r/base:new': A });
    expect(plan.add).toEqual([]);
    expect(plan.drop).toEqual(['r/base:old']);
    expect(plan.ledger).toEqual({ 'r/base:new': A });
  });

  it('never drops a tag the user made (not in the ledger)', () => {
    const plan = planTags([{ project: 'base', image: A, present: ['mine:latest'], wanted: [] }], new Set(), {});
    expect(plan.drop).toEqual([]);
  });

  it('never drops a ledger tag that now points at another image (the user, or another run, moved it)', () => {
    const plan = planTags([{ project: 'base', image: A, present: ['r/base:old'], wanted: [] }], new Set(), { 'r/base:old': B });
    expect(plan.drop).toEqual([]);
    expect(plan.ledger).toEqual({ 'r/base:old': B });
  });

  it('drops the chain\'s scaffold names once the image gets its own tags (after they are added)', () => {
    const upstream = `image-chain-upstream:${'a'.repeat(64)}`;
    const pushed = `127.0.0.1:5000/base:sha256-${'a'.repeat(64)}`;
    const plan = planTags([{ project: 'base', image: A, present: [upstream, pushed], wanted: ['r/base:1'] }], new Set(['r/base:1']), {});
    expect(plan.add).toEqual([{ tag: 'r/base:1', image: A }]);
    expect(plan.drop).toEqual([upstream, pushed]);
    expect(plan.ledger).toEqual({ 'r/base:1': A });
    // An image the versions file gives no tag keeps its scaffold name: it is its only one.
    expect(planTags([{ project: 'base', image: A, present: [upstream], wanted: [] }], new Set(), {}).drop).toEqual([]);
  });

  it('never drops a tag another stage or line wants', () => {
    const plan = planTags(
      [
        { project: 'base', image: A, present: ['r/shared:1'], wanted: [] },
        { project: 'final', image: B, present: [], wanted: ['r/shared:1'] },
      ],
      new Set(['r/shared:1']),
      { 'r/shared:1': A },
    );
    expect(plan.drop).toEqual([]);
    expect(plan.add).toEqual([{ tag: 'r/shared:1', image: B }]);
    expect(plan.ledger).toEqual({ 'r/shared:1': B });
  });
});

describe('applyTags', () => {
  it('adds before it drops, so an image never loses its last tag on the way', async () => {
    const calls: string[] = [];
    const engine: TagStore = {
      tag: async (image, tag) => void calls.push(`tag ${image} ${tag}`),
      removeTag: async (ref) => void calls.push(`untag ${ref}`),
    };
    await applyTags(engine, { add: [{ tag: 'r/base:new', image: A }, { tag: 'r/final:new', image: B }], drop: ['r/base:old'], ledger: {} });
    expect(calls).toEqual([`tag ${A} r/base:new`, `tag ${B} r/final:new`, 'untag r/base:old']);
  });
});

describe('the ledger file', () => {
  it('round-trips sorted, and reads as empty when missing or not JSON', () => {
    const root = mkdtempSync(join(tmpdir(), 'ledger-'));
    try {
      expect(readLedger(root)).toEqual({});
      writeLedger(root, { 'r/b:1': B, 'r/a:1': A });
      expect(Object.keys(JSON.parse(readFileSync(join(root, LEDGER_FILE), 'utf8')))).toEqual(['r/a:1', 'r/b:1']);
      expect(readLedger(root)).toEqual({ 'r/a:1': A, 'r/b:1': B });
      writeFileSync(join(root, LEDGER_FILE), '{"r/a:1": ');
      expect(readLedger(root)).toEqual({});
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('sameLedger', () => {
  it('tells a ledger that learned a tag already in place from one that did not', () => {
    expect(sameLedger({ a: '1' }, { a: '1' })).toBe(true);
    expect(sameLedger({}, { a: '1' })).toBe(false);
    expect(sameLedger({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameLedger({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
  });
});
