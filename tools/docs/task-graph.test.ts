import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-block';
import { BLOCK, mermaid, readTaskGraph } from './task-graph';

describe('the README task graph', () => {
  it('is the one Nx computes now (regenerate: tools/node/env.sh node -r @swc-node/register tools/docs/task-graph.ts --write)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    expect(readmeBlock(readme, BLOCK)).toBe(mermaid(readTaskGraph()));
  });
});
