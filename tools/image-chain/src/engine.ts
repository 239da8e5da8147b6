// Every call to the container engine goes through here (execa), so that errors become
// messages a user can act on and the client binary is chosen in one place.
import { execa } from 'execa';

export interface ImageInfo {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Parent: string;
  Architecture: string;
  Os: string;
  Config: { Labels: Record<string, string> | null; Env: string[] | null };
  RootFS: { Layers: string[] | null };
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly step: string | null,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

const LOST_ENGINE = /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running|docker\.sock: connect/i;
// The connection to the engine broke while a build was running.
const LOST_DURING_BUILD = /unexpected EOF|error reading from server|connection reset by peer|broken pipe|Cannot connect to the Docker daemon|error during connect/i;
// The daemon could not reach a registry (down, wrong address, no network).
const REGISTRY_UNREACHABLE = /Error response from daemon: (Get|Head|Put|Post) "?https?:\/\/([^/"]+)[^"]*"?: (.*)$/m;

export function noEngineMessage(client: string, detail: string): string {
  const host = process.env.DOCKER_HOST ? ` at DOCKER_HOST=${process.env.DOCKER_HOST}` : '';
  return [
    `No Docker engine answers${host} (${detail.trim().split('\n')[0]}).`,
    `Start one: on Debian run "bash tools/setup.sh" (installs docker.io and starts dockerd), elsewhere start Docker;`,
    `then check with "${client} version".`,
  ].join('\n');
}

/**
 * One Dockerfile LABEL instruction for all labels (values quoted). Labels go into the image this
 * way, not as `docker build --label`: the classic builder makes a build step, a container each,
 * per --label flag.
 */
export function labelInstruction(labels: Record<string, string>): string {
  return `LABEL ${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`;
}

export interface BuildOptions {
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  network: string;
  platform?: string;
  iidFile: string;
  /** Aborting it stops the build (the client is killed; the engine cancels the build). */
  signal?: AbortSignal;
}

export class Engine {
  constructor(
    readonly client = 'docker',
    /** The network RUN steps use: "host" where builds fetch packages through the host. */
    readonly network = 'host',
  ) {}

  private async run(args: string[], options: { inputFile?: string; env?: Record<string, string> } = {}) {
    return this.found(await execa(this.client, args, { ...options, reject: false, stripFinalNewline: true, env: options.env }));
  }

  /** A client that cannot be started is a set-up fault with its own message. */
  private found<R extends { failed: boolean; code?: string }>(result: R): R {
    if (result.failed && result.code === 'ENOENT') {
      throw new EngineError(`The Docker client "${this.client}" is not installed. Run "bash tools/setup.sh" or set "docker.client" in images/versions.json.`);
    }
    return result;
  }

  /** Turns a failed client call into an error that says whether the engine itself is gone. */
  private fail(what: string, stderr: string): never {
    if (LOST_ENGINE.test(stderr)) throw new EngineError(noEngineMessage(this.client, stderr));
    const registry = REGISTRY_UNREACHABLE.exec(stderr);
    if (registry) {
      throw new RegistryError(`${this.client} ${what}: the registry ${registry[2]} cannot be reached (${registry[3].trim()}). Check that it is up and that the address in images/versions.json is right.`);
    }
    throw new EngineError(`${this.client} ${what} failed: ${stderr.trim()}`);
  }

  /** Inspects images by ID or name; absent ones are simply missing from the map. */
  async inspect(refs: string[]): Promise<Map<string, ImageInfo>> {
    const found = new Map<string, ImageInfo>();
    if (refs.length === 0) return found;
    const result = await this.run(['image', 'inspect', ...refs]);
    const stderr = String(result.stderr ?? '');
    if (result.exitCode !== 0 && !/no such image/i.test(stderr)) this.fail('image inspect', stderr);
    const infos: ImageInfo[] = JSON.parse(String(result.stdout || '[]'));
    // docker answers in request order but skips the missing; match by ID or tag.
    for (const ref of refs) {
      const info = infos.find((i) => i.Id === ref || (i.RepoTags ?? []).includes(ref) || (i.RepoDigests ?? []).includes(ref));
      if (info) found.set(ref, info);
    }
    return found;
  }

  async tag(image: string, tag: string): Promise<void> {
    const result = await this.run(['image', 'tag', image, tag]);
    if (result.exitCode !== 0) this.fail(`image tag ${image} ${tag}`, String(result.stderr));
  }

  /** Removes a tag (or an image nobody else uses); a missing one is not an error. */
  async removeTag(ref: string): Promise<void> {
    const result = await this.run(['image', 'rm', '--no-prune', ref]);
    if (result.exitCode !== 0 && !/no such image/i.test(String(result.stderr))) this.fail(`image rm ${ref}`, String(result.stderr));
  }

  /**
   * Builds with the classic builder: it takes FROM by image ID, which pins the upstream exactly.
   * No tag: the image is known by its ID until the run ends (see tagging.ts).
   */
  async build(options: BuildOptions): Promise<void> {
    const args = ['build', '--force-rm', '--iidfile', options.iidFile, '-f', options.dockerfile];
    if (options.network !== 'default') args.push('--network', options.network);
    if (options.platform) args.push('--platform', options.platform);
    for (const [key, value] of Object.entries(options.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    args.push(options.context);

    const { result, tail, lastStep } = await this.streamed(args, { env: { DOCKER_BUILDKIT: '0' }, signal: options.signal });
    if (result.exitCode === 0 && !result.isCanceled) return;
    if (result.isCanceled) throw new BuildError('the build was interrupted (SIGINT/SIGTERM)', lastStep);
    const output = tail.join('\n');
    if (LOST_DURING_BUILD.test(output)) {
      throw new EngineError(`The Docker engine stopped answering during the build${lastStep ? ` (at "${lastStep}")` : ''}: ${output.split('\n').find((l) => LOST_DURING_BUILD.test(l))?.trim()}. Start it again (bash tools/setup.sh) and rerun.`);
    }
    if (LOST_ENGINE.test(output)) throw new EngineError(noEngineMessage(this.client, output.split('\n').find((l) => LOST_ENGINE.test(l)) ?? output));
    const reason =
      tail.find((l) => /no space left on device/i.test(l)) ??
      tail.filter((l) => /returned a non-zero code|error|failed/i.test(l)).pop() ??
      tail[tail.length - 1] ??
      `exit code ${result.exitCode}`;
    throw new BuildError(reason, lastStep);
  }

  /** Imports a root file system from a tar stream; returns the new image ID. */
  async importTar(tarFile: string, changes: string[]): Promise<string> {
    const args = ['image', 'import'];
    for (const change of changes) args.push('--change', change);
    args.push('-');
    const result = await this.run(args, { inputFile: tarFile });
    if (result.exitCode !== 0) this.fail('image import', String(result.stderr));
    return String(result.stdout).trim();
  }

  /**
   * Pushes a tag; returns the manifest digest the registry answered. Registry faults are
   * retried a few times with backoff; a lost engine is not.
   */
  async push(ref: string, attempts = 4): Promise<string> {
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await this.run(['image', 'push', ref]);
      const out = `${result.stdout}\n${result.stderr}`;
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out);
      if (result.exitCode === 0 && digest) return digest[1];
      if (LOST_ENGINE.test(out)) throw new EngineError(noEngineMessage(this.client, out));
      last = String(result.stderr || result.stdout).trim().split('\n').pop() ?? '';
      if (attempt < attempts) {
        const wait = 500 * 2 ** (attempt - 1);
        console.warn(`push ${ref} failed (${last}); retrying in ${wait} ms (${attempt}/${attempts})`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    throw new RegistryError(`Pushing ${ref} failed ${attempts} times: ${last}. Check that the registry ${ref.split('/')[0]} is up and that you are logged in ("docker login").`);
  }

  async pull(ref: string): Promise<void> {
    const { result, tail } = await this.streamed(['image', 'pull', ref], {});
    if (result.exitCode !== 0) this.fail(`pull ${ref}`, tail.slice(-5).join('\n'));
  }

  /**
   * Runs a long client call with its output streamed to the terminal, keeping the last lines
   * (and, for builds, the last "Step N/M" line) for the error message.
   */
  private async streamed(args: string[], options: { env?: Record<string, string>; signal?: AbortSignal }) {
    const child = execa(this.client, args, {
      env: options.env,
      reject: false,
      all: true,
      stdout: ['pipe', 'inherit'],
      stderr: ['pipe', 'inherit'],
      lines: true,
      cancelSignal: options.signal,
      forceKillAfterDelay: 5000,
    });
    let lastStep: string | null = null;
    const tail: string[] = [];
    for await (const line of child.iterable({ from: 'all' })) {
      const text = String(line);
      if (/^Step \d+\/\d+ : /.test(text)) lastStep = text;
      tail.push(text);
      if (tail.length > 20) tail.shift();
    }
    return { result: this.found(await child), tail, lastStep };
  }
}
