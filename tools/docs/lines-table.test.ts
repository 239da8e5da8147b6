import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlock } from './readme-block';
import { BLOCK, currentTable } from './lines-table';

describe('the README table of version lines', () => {
  it('is the one the versions file makes now (regenerate: npm run generate)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    expect(readmeBlock(readme, BLOCK)).toBe(currentTable());
  });
});
