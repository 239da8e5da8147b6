// Turns a build context's .dockerignore into Nx input globs, so the cache key covers exactly
// what `docker build` sends. Two forms are translated: a list of exclusions, and an allow-list
// ("*" then "!file" lines). Anything else keeps every file as an input: a needless rebuild is
// acceptable, a stale image is not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Docker always sends these, whatever the .dockerignore says.
const ALWAYS_SENT = ['Dockerfile', '.dockerignore'];

function clean(pattern: string): string {
  return pattern.replace(/^!/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Input globs for a context folder (workspace-relative), honouring its .dockerignore. */
export function contextInputs(workspaceRoot: string, contextDir: string): string[] {
  const all = `{workspaceRoot}/${contextDir}/**/*`;
  const ignoreFile = join(workspaceRoot, contextDir, '.dockerignore');
  if (!existsSync(ignoreFile)) return [all];
  const patterns = readFileSync(ignoreFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const exceptions = patterns.filter((p) => p.startsWith('!'));

  if (['*', '**', '**/*'].includes(patterns[0] ?? '') && exceptions.length === patterns.length - 1) {
    // Allow-list: only the named files and folders are sent.
    const sent = new Set([...ALWAYS_SENT, ...exceptions.map(clean)].filter(Boolean));
    return [...sent].flatMap((p) => [`{workspaceRoot}/${contextDir}/${p}`, `{workspaceRoot}/${contextDir}/${p}/**`]);
  }
  if (exceptions.length > 0) return [all];
  const inputs = [all];
  for (const pattern of patterns.map(clean)) {
    if (!pattern || ['.', '*', '**', ...ALWAYS_SENT].includes(pattern)) continue;
    // A pattern names a file or a folder; a folder excludes everything below it.
    inputs.push(`!{workspaceRoot}/${contextDir}/${pattern}`, `!{workspaceRoot}/${contextDir}/${pattern}/**`);
  }
  return inputs;
}
