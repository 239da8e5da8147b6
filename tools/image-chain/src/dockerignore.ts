// Turns a build context's .dockerignore into Nx input globs, so the cache key covers exactly
// what `docker build` sends. Where the translation could be wrong (exception lines), we keep
// every file as an input: a needless rebuild is acceptable, a stale image is not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Input globs for a context folder (workspace-relative), honouring its .dockerignore. */
export function contextInputs(workspaceRoot: string, contextDir: string): string[] {
  const inputs = [`{workspaceRoot}/${contextDir}/**/*`];
  const ignoreFile = join(workspaceRoot, contextDir, '.dockerignore');
  if (!existsSync(ignoreFile)) return inputs;
  const patterns = readFileSync(ignoreFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) return inputs;
  for (const pattern of patterns) {
    const clean = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
    // Never drop the whole context, and Docker always sends the Dockerfile and .dockerignore.
    if (!clean || ['.', '*', '**', 'Dockerfile', '.dockerignore'].includes(clean)) continue;
    // A pattern names a file or a folder; a folder excludes everything below it.
    inputs.push(`!{workspaceRoot}/${contextDir}/${clean}`, `!{workspaceRoot}/${contextDir}/${clean}/**`);
  }
  return inputs;
}
