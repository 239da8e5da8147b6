import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextInputs } from './dockerignore';

function workspaceWith(ignore?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'di-'));
  mkdirSync(join(root, 'images/base'), { recursive: true });
  if (ignore !== undefined) writeFileSync(join(root, 'images/base/.dockerignore'), ignore);
  return root;
}

describe('context inputs from .dockerignore', () => {
  it('without a .dockerignore every file of the context is an input', () => {
    expect(contextInputs(workspaceWith(), 'images/base')).toEqual(['{workspaceRoot}/images/base/**/*']);
  });
  it('ignored files and folders are not inputs; the Dockerfile always is', () => {
    expect(contextInputs(workspaceWith('# notes\n*.md\n/build/\nDockerfile\n'), 'images/base')).toEqual([
      '{workspaceRoot}/images/base/**/*',
      '!{workspaceRoot}/images/base/*.md', '!{workspaceRoot}/images/base/*.md/**',
      '!{workspaceRoot}/images/base/build', '!{workspaceRoot}/images/base/build/**',
    ]);
  });
  it('exception lines make it keep everything (a needless rebuild beats a stale image)', () => {
    expect(contextInputs(workspaceWith('*.md\n!README.md\n'), 'images/base')).toEqual(['{workspaceRoot}/images/base/**/*']);
  });
});
