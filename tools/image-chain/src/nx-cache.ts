// Removing one entry from Nx's local cache, for a cache hit whose image is gone for good.
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export function evictCacheEntry(workspaceRoot: string, hash: string): void {
  const dir = process.env.NX_CACHE_DIRECTORY ?? join(workspaceRoot, '.nx', 'cache');
  rmSync(join(dir, hash), { recursive: true, force: true });
}
