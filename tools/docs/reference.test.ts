// The generated schemas and reference against what the generator makes now. Pure: it reads
// files and the zod schemas, and starts neither Docker nor nx.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXECUTOR_OPTIONS } from '../image-chain/src/options';
import { generatedFiles, REGENERATE, ROOT, schemaPath, strayFiles } from './reference';

function read(file: string): string | null {
  try {
    return readFileSync(join(ROOT, file), 'utf8');
  } catch {
    return null;
  }
}

describe('the files generated from the zod schemas', () => {
  it.each([...generatedFiles()])('%s is what the generator makes', (file, text) => {
    expect(read(file), `${file} is out of date with the zod schemas: run \`${REGENERATE}\``).toBe(text);
  });

  it('leave no schema behind that no executor makes', () => {
    expect(strayFiles(), `run \`${REGENERATE}\` (it removes them)`).toEqual([]);
  });

  it('are the schemas executors.json gives Nx, one per executor', () => {
    const { executors } = JSON.parse(read('tools/image-chain/executors.json')!) as { executors: Record<string, { schema: string }> };
    const declared = Object.fromEntries(Object.entries(executors).map(([name, e]) => [name, e.schema]));
    const expected = Object.fromEntries(Object.keys(EXECUTOR_OPTIONS).map((name) => [name, `./${schemaPath(name).replace('tools/image-chain/', '')}`]));
    expect(declared).toEqual(expected);
  });
});
