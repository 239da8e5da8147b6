// A second Docker engine on this host, with its own data root and socket: a "fresh machine"
// that shares nothing with the first but what a test gives it (a registry, a remote cache).
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecondEngine {
  host: string; // unix:///.../sock, for DOCKER_HOST
  docker(...args: string[]): Promise<string>;
  /** Stops the daemon, its data kept; start() brings it back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A second engine; `diskMb` puts its data root on a tmpfs of that size (a disk that fills);
 * `containerdStore` gives it the containerd image store (an image's ID is its manifest digest).
 */
export async function startSecondEngine(options: { diskMb?: number; containerdStore?: boolean } = {}): Promise<SecondEngine> {
  // A short path: unix socket paths are limited to about 100 characters.
  const dir = mkdtempSync('/tmp/eng-');
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify(options.containerdStore ? { features: { 'containerd-snapshotter': true } } : {}));
  const host = `unix://${dir}/sock`;
  if (options.diskMb) {
    mkdirSync(join(dir, 'data'));
    await execa('mount', ['-t', 'tmpfs', '-o', `size=${options.diskMb}m`, 'tmpfs', join(dir, 'data')]);
  }
  let { daemon } = await launch(dir, host);
  const docker = async (...args: string[]) => String((await execa('docker', args, { env: { DOCKER_HOST: host } })).stdout);
  return {
    host,
    docker,
    async kill() {
      daemon.kill('SIGTERM'); // as `systemctl stop docker` does: running builds are cut off
      await daemon;
      // Shims of containers that were running outlive the daemon and block its restart.
      await execa('pkill', ['-9', '-f', `${dir}/exec`], { reject: false });
      await unmountBelow(`${dir}/exec`);
      // Runtime state goes, as /run does on a reboot; images and layers stay.
      rmSync(join(dir, 'exec'), { recursive: true, force: true });
    },
    async start() {
      ({ daemon } = await launch(dir, host));
    },
    async stop() {
      daemon.kill('SIGTERM');
      await daemon;
      await execa('pkill', ['-9', '-f', `${dir}/exec`], { reject: false });
      // The engine may leave bind mounts (network namespaces) behind: unmount, then remove.
      await unmountBelow(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function unmountBelow(dir: string): Promise<void> {
  await execa('sh', ['-c', `awk '{print $2}' /proc/mounts | grep '^${dir}' | sort -r | xargs -r umount -l`], { reject: false });
}

// Wrapped in an object: a ResultPromise is a thenable, and returning it would await the daemon.
async function launch(dir: string, host: string): Promise<{ daemon: ResultPromise }> {
  const daemon: ResultPromise = execa('dockerd', [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid'),
    '-H', host, '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
    '--config-file', join(dir, 'daemon.json'),
  ], { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 120; i++) {
    const ok = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { env: { DOCKER_HOST: host }, reject: false });
    if (ok.exitCode === 0) return { daemon };
    await new Promise((r) => setTimeout(r, 250));
  }
  daemon.kill('SIGKILL');
  throw new Error(`the second engine did not answer on ${host}: ${String((await daemon).stderr).slice(-500)}`);
}
