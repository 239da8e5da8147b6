// A real OCI registry on 127.0.0.1 (Debian's docker-registry), for tests that push and pull.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Registry {
  host: string; // 127.0.0.1:PORT
  dir: string;
  /** Stops it; its storage is kept only with keepData (to start it again on the same port). */
  stop(keepData?: boolean): Promise<void>;
}

export async function startRegistry(options: { port?: number; dir?: string } = {}): Promise<Registry> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'registry-'));
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa('docker-registry', ['serve', config], { reject: false, stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (ok) {
      return {
        host,
        dir,
        async stop(keepData = false) {
          child.kill('SIGTERM');
          await child;
          if (!keepData) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not answer on ${host}: is Debian's docker-registry package installed (bash tools/setup.sh)?`);
}
