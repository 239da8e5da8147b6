// Removing one entry from Nx's local cache, for a cache hit whose image is gone for good.
// Nx serves an entry only while its folder exists; without it the task runs again.
import { rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export function cacheDirectory(workspaceRoot: string, configured?: string): string {
  const dir = process.env.NX_CACHE_DIRECTORY ?? configured ?? '.nx/cache';
  return isAbsolute(dir) ? dir : join(workspaceRoot, dir);
}

export function evictCacheEntry(cacheDir: string, hash: string): void {
  if (!/^[0-9a-zA-Z]+$/.test(hash)) return;
  rmSync(join(cacheDir, hash), { recursive: true, force: true });
}
