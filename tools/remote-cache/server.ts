// Starts the nginx-based Nx remote cache (server.sh) on a free 127.0.0.1 port for tests.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RemoteCache {
  /** http://127.0.0.1:PORT, the value for NX_SELF_HOSTED_REMOTE_CACHE_SERVER */
  url: string;
  /** read-write token (NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN of trusted runs) */
  rwToken: string;
  /** read-only token: reads hit, uploads answer 403 */
  roToken: string;
  /** state dir: nginx.conf, tokens.env, logs/, store/ */
  dir: string;
  stop(): Promise<void>;
}

const script = resolve(__dirname, 'server.sh');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? ok(port) : fail(new Error('no port'))));
    });
  });
}

/**
 * Starts a remote cache in opts.dir (default: a new temp dir, removed again by stop()) with fresh
 * tokens. The port is free when picked; a start that loses it to another process is retried.
 */
export async function startRemoteCache(opts: { dir?: string } = {}): Promise<RemoteCache> {
  const ownDir = !opts.dir;
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'nx-remote-cache-'));
  const rwToken = randomBytes(32).toString('hex');
  const roToken = randomBytes(32).toString('hex');
  const baseEnv = { REMOTE_CACHE_DIR: dir, REMOTE_CACHE_RW_TOKEN: rwToken, REMOTE_CACHE_RO_TOKEN: roToken };

  const stop = async (): Promise<void> => {
    await execa('bash', [script, 'stop'], { env: baseEnv, all: true });
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const run = await execa('bash', [script, 'start'], {
      env: { ...baseEnv, REMOTE_CACHE_PORT: String(port) },
      all: true,
      reject: false,
      timeout: 60_000,
    });
    if (run.exitCode === 0) return { url: `http://127.0.0.1:${port}`, rwToken, roToken, dir, stop };
    lastError = String(run.all ?? '');
    // Leave nothing half-started before the next port is tried.
    await execa('bash', [script, 'stop'], { env: baseEnv, reject: false });
    if (!/Address already in use|bind\(\)/.test(lastError)) break;
  }
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  throw new Error(`remote cache did not start in ${dir}:\n${lastError}`);
}
