// The nginx remote cache answers the way Nx's self-hosted cache client needs (see
// docs/remote-cache.md): 404 for a miss, exactly 200 for a stored PUT, 409 for an existing entry,
// 403 for a read-only PUT, 401 text/plain without a known token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startRemoteCache, type RemoteCache } from './server';

const script = resolve(__dirname, 'server.sh');
const ZERO = '0'.repeat(64);

describe('nginx remote cache for Nx', () => {
  let cache: RemoteCache;
  const hash = String(BigInt('0x' + randomBytes(8).toString('hex'))); // Nx hashes are decimal
  const body = randomBytes(256 * 1024 + 17);

  const req = (path: string, init: { method?: string; token?: string; body?: Uint8Array } = {}) =>
    fetch(`${cache.url}/v1/cache/${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        ...(init.body ? { 'Content-Type': 'application/octet-stream' } : {}),
      },
      body: init.body,
    });

  beforeAll(async () => {
    cache = await startRemoteCache();
  });
  afterAll(async () => {
    await cache?.stop();
  });

  it('listens on 127.0.0.1 only and keeps tokens in a 0600 tokens.env', () => {
    expect(cache.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const conf = readFileSync(join(cache.dir, 'nginx.conf'), 'utf8');
    const listens = [...conf.matchAll(/^\s*listen\s+([^;]+);/gm)].map((m) => m[1]);
    expect(listens).toEqual([`127.0.0.1:${new URL(cache.url).port}`]);
    const tokens = readFileSync(join(cache.dir, 'tokens.env'), 'utf8');
    expect(tokens).toContain(`REMOTE_CACHE_RW_TOKEN=${cache.rwToken}`);
    expect(tokens).toContain(`REMOTE_CACHE_RO_TOKEN=${cache.roToken}`);
    expect(statSync(join(cache.dir, 'tokens.env')).mode & 0o077).toBe(0);
  });

  it('answers 404 for a missing entry (the probe Nx wrappers use)', async () => {
    expect((await req(ZERO, { token: cache.rwToken })).status).toBe(404);
    expect((await req(hash, { token: cache.roToken })).status).toBe(404);
  });

  it('stores a PUT with the read-write token and answers exactly 200', async () => {
    const res = await req(hash, { method: 'PUT', token: cache.rwToken, body });
    expect(res.status).toBe(200);
  });

  it('serves the stored bytes back to either token', async () => {
    for (const token of [cache.rwToken, cache.roToken]) {
      const res = await req(hash, { token });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    }
  });

  it('answers 409 to a second PUT of the same hash and keeps the first bytes', async () => {
    const res = await req(hash, { method: 'PUT', token: cache.rwToken, body: randomBytes(100) });
    expect(res.status).toBe(409);
    const again = await req(hash, { token: cache.rwToken });
    expect(Buffer.from(await again.arrayBuffer()).equals(body)).toBe(true);
  });

  it('answers 403 to a PUT with the read-only token and stores nothing', async () => {
    const other = hash + '1';
    const res = await req(other, { method: 'PUT', token: cache.roToken, body });
    expect(res.status).toBe(403);
    expect((await req(other, { token: cache.rwToken })).status).toBe(404);
  });

  it('answers 401 text/plain without a token or with a wrong one', async () => {
    for (const token of [undefined, 'not-the-token-0123456789', `${cache.rwToken}x`]) {
      for (const method of ['GET', 'PUT']) {
        const res = await req(hash, { method, token, body: method === 'PUT' ? body : undefined });
        expect(res.status).toBe(401);
        // Exactly text/plain: Nx 23 rejects "text/plain; charset=utf-8" as a misconfigured endpoint.
        expect(res.headers.get('content-type')).toBe('text/plain');
      }
    }
  });

  it('refuses keys that are not plain hashes and methods other than GET/HEAD/PUT', async () => {
    expect((await req('..%2Fnginx.conf', { token: cache.rwToken })).status).toBe(404);
    expect((await req(`${hash}.tmp`, { token: cache.rwToken })).status).toBe(404);
    expect((await req(hash, { method: 'DELETE', token: cache.rwToken })).status).toBe(405);
    expect((await req(hash, { token: cache.rwToken })).status).toBe(200);
  });

  it('start is idempotent and status reports the running server', async () => {
    const env = {
      REMOTE_CACHE_DIR: cache.dir,
      REMOTE_CACHE_PORT: new URL(cache.url).port,
      REMOTE_CACHE_RW_TOKEN: cache.rwToken,
      REMOTE_CACHE_RO_TOKEN: cache.roToken,
    };
    const again = await execa('bash', [script, 'start'], { env });
    expect(again.stdout).toContain('already running');
    const status = await execa('bash', [script, 'status'], { env: { REMOTE_CACHE_DIR: cache.dir } });
    expect(status.stdout).toContain(`running: ${cache.url}`);
  });

  it('stop ends the server and a second stop is a no-op', async () => {
    const other = await startRemoteCache();
    const pid = Number(readFileSync(join(other.dir, 'nginx.pid'), 'utf8'));
    await other.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await expect(fetch(`${other.url}/v1/cache/${ZERO}`)).rejects.toThrow();
    const status = await execa('bash', [script, 'status'], { env: { REMOTE_CACHE_DIR: other.dir }, reject: false });
    expect(status.exitCode).toBe(3);
    const stopAgain = await execa('bash', [script, 'stop'], { env: { REMOTE_CACHE_DIR: other.dir } });
    expect(stopAgain.stdout).toContain('not running');
  });
});
