import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, shellPath } from './run';

// The PATH nx:run-commands gives its commands is made by npm-run-path (a dependency of nx).
const npmRunPath = createRequire(require.resolve('nx/package.json'))('npm-run-path') as (o: { cwd: string; path: string; execPath: string }) => string;

describe('the command runner', () => {
  const shell = '/root/.pyenv/shims:/usr/local/bin:/usr/bin:/bin';

  it('gives tools the PATH of the shell nx was started from', () => {
    const cwd = '/work/repo';
    const given = npmRunPath({ cwd, path: shell, execPath: '/usr/bin/node' });
    expect(given.startsWith('/work/repo/node_modules/.bin:/work/node_modules/.bin:/node_modules/.bin:/usr/bin:')).toBe(true);
    expect(shellPath(given, cwd, '/usr/bin')).toBe(shell);
  });

  it('keeps a shell PATH that starts with node\'s own folder as it was', () => {
    const path = `${dirname(process.execPath)}:${shell}`;
    expect(shellPath(npmRunPath({ cwd: '/w', path, execPath: process.execPath }), '/w')).toBe(path);
  });

  it('leaves a PATH that nx did not prefix alone', () => {
    expect(shellPath(shell, '/work/repo', '/usr/bin')).toBe(shell);
  });

  it('names the usage when the executor is unknown', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      expect(await main(['no-such-executor', 'images/x'], () => { throw new Error('never loaded'); })).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toMatch(/node tools\/image-chain\/run\.js <executor> \{projectRoot\}.*docker-build/);
  });
});
