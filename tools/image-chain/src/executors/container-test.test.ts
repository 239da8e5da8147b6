import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpersPythonPath, resolvePython } from './container-test';

describe('resolvePython', () => {
  it('looks a bare name up on PATH', () => {
    expect(resolvePython('/nowhere', 'python3')).toBe('python3');
  });

  it('resolves a path against the workspace root', () => {
    const root = mkdtempSync(join(tmpdir(), 'ct-python-'));
    mkdirSync(join(root, '.venv/bin'), { recursive: true });
    writeFileSync(join(root, '.venv/bin/python'), '');
    expect(resolvePython(root, '.venv/bin/python')).toBe(join(root, '.venv/bin/python'));
  });

  it('names the set-up command when the virtualenv is missing', () => {
    expect(() => resolvePython('/nowhere', '.venv/bin/python')).toThrow(/\.venv\/bin\/python does not exist: run `bash tools\/setup\.sh`/);
  });
});

describe('helpersPythonPath', () => {
  it('is the shared helpers\' folder under the workspace root', () => {
    expect(helpersPythonPath('/ws', undefined)).toBe('/ws/tools/container-test');
    expect(helpersPythonPath('/ws', '')).toBe('/ws/tools/container-test');
  });

  it('comes before a PYTHONPATH the caller already has', () => {
    expect(helpersPythonPath('/ws', `/a${delimiter}/b`)).toBe(`/ws/tools/container-test${delimiter}/a${delimiter}/b`);
  });
});
