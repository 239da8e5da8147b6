import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextInputs } from './dockerignore';

function workspaceWith(ignore?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'di-'));
  mkdirSync(join(root, 'images/base'), { recursive: true });
  mkdirSync(join(root, 'images/final'), { recursive: true });
  if (ignore !== undefined) for (const d of ['base', 'final']) writeFileSync(join(root, `images/${d}/.dockerignore`), ignore);
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
  it('an allow-list ("*" then "!name" lines) makes exactly the named files inputs', () => {
    expect(contextInputs(workspaceWith('# only these\n*\n!Dockerfile\n!wheels/\n!check.py\n'), 'images/final')).toEqual([
      '{workspaceRoot}/images/final/Dockerfile', '{workspaceRoot}/images/final/Dockerfile/**',
      '{workspaceRoot}/images/final/.dockerignore', '{workspaceRoot}/images/final/.dockerignore/**',
      '{workspaceRoot}/images/final/wheels', '{workspaceRoot}/images/final/wheels/**',
      '{workspaceRoot}/images/final/check.py', '{workspaceRoot}/images/final/check.py/**',
    ]);
  });
  it('other exception lines make it keep everything (a needless rebuild beats a stale image)', () => {
    expect(contextInputs(workspaceWith('*.md\n!README.md\n'), 'images/base')).toEqual(['{workspaceRoot}/images/base/**/*']);
  });
});
