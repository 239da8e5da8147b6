// One build of a project at a time in a workspace: two `nx run` started together must not
// build, tag and record the same stage at once. The second waits, then reuses what the first
// built if it has the same inputs. A lock left by a process that died is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs fn holding the project's lock; `waited` tells whether another run held it first. */
export async function withProjectLock<T>(workspaceRoot: string, project: string, fn: (waited: boolean) => Promise<T>): Promise<T> {
  const dir = join(workspaceRoot, '.nx/image-chain/locks', project);
  mkdirSync(join(dir, '..'), { recursive: true });
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir); // atomic: exactly one process creates it
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        // the owner is between mkdir and writing its pid
      }
      if (Number.isInteger(owner) && !alive(owner)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (!told) console.log(`${project}: another run (pid ${owner}) is building this stage; waiting for it`);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn(told);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
