// A second Docker engine on this host, with its own data root and socket: a "fresh machine"
// that shares nothing with the first but what a test gives it (a registry, a remote cache).
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecondEngine {
  host: string; // unix:///.../sock, for DOCKER_HOST
  docker(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startSecondEngine(): Promise<SecondEngine> {
  // A short path: unix socket paths are limited to about 100 characters.
  const dir = mkdtempSync('/tmp/eng-');
  writeFileSync(join(dir, 'daemon.json'), '{}');
  const host = `unix://${dir}/sock`;
  const daemon: ResultPromise = execa('dockerd', [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid'),
    '-H', host, '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
    '--config-file', join(dir, 'daemon.json'),
  ], { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
  const docker = async (...args: string[]) => String((await execa('docker', args, { env: { DOCKER_HOST: host } })).stdout);
  for (let i = 0; i < 120; i++) {
    const ok = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { env: { DOCKER_HOST: host }, reject: false });
    if (ok.exitCode === 0) {
      return {
        host,
        docker,
        async stop() {
          daemon.kill('SIGTERM');
          await daemon;
          // The engine may leave bind mounts (network namespaces) behind: unmount, then remove.
          await execa('sh', ['-c', `awk '{print $2}' /proc/mounts | grep '^${dir}/' | sort -r | xargs -r umount -l`], { reject: false });
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  daemon.kill('SIGKILL');
  throw new Error(`the second engine did not answer on ${host}: ${String((await daemon).stderr).slice(-500)}`);
}
