// The client calls every builder shares: images are inspected, tagged, imported, pushed and
// pulled alike whichever builder made them. A builder (buildkit.ts, classic.ts) adds its build.
import { execa } from 'execa';
import { EngineError, RegistryError, type BuildOptions, type ContainerEngine, type ImageInfo } from './engine';
import { clientFailure, isLostEngine, isNoSuchImage, noEngineMessage, pushedDigest } from './failures';

export abstract class DockerEngine implements ContainerEngine {
  constructor(
    readonly client = 'docker',
    /** The network RUN steps use: "host" where builds fetch packages through the host. */
    readonly network = 'host',
  ) {}

  abstract build(options: BuildOptions): Promise<string>;

  protected async run(args: string[], options: { inputFile?: string; env?: Record<string, string> } = {}) {
    return this.found(await execa(this.client, args, { ...options, reject: false, stripFinalNewline: true }));
  }

  /** A client that cannot be started is a set-up fault with its own message. */
  protected found<R extends { failed: boolean; code?: string }>(result: R): R {
    if (result.failed && result.code === 'ENOENT') {
      throw new EngineError(`The Docker client "${this.client}" is not installed. Run "bash tools/setup.sh" or set "docker.client" in images/versions.json.`);
    }
    return result;
  }

  async inspect(refs: string[]): Promise<Map<string, ImageInfo>> {
    const found = new Map<string, ImageInfo>();
    if (refs.length === 0) return found;
    const result = await this.run(['image', 'inspect', ...refs]);
    const stderr = String(result.stderr ?? '');
    if (result.exitCode !== 0 && !isNoSuchImage(stderr)) throw clientFailure(this.client, 'image inspect', stderr);
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
    if (result.exitCode !== 0) throw clientFailure(this.client, `image tag ${image} ${tag}`, String(result.stderr));
  }

  async removeTag(ref: string): Promise<void> {
    const result = await this.run(['image', 'rm', '--no-prune', ref]);
    if (result.exitCode !== 0 && !isNoSuchImage(String(result.stderr))) throw clientFailure(this.client, `image rm ${ref}`, String(result.stderr));
  }

  async importTar(tarFile: string, changes: string[]): Promise<string> {
    const args = ['image', 'import'];
    for (const change of changes) args.push('--change', change);
    args.push('-');
    const result = await this.run(args, { inputFile: tarFile });
    if (result.exitCode !== 0) throw clientFailure(this.client, 'image import', String(result.stderr));
    return String(result.stdout).trim();
  }

  /** Registry faults are retried a few times with backoff; a lost engine is not. */
  async push(ref: string, attempts = 4): Promise<string> {
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await this.run(['image', 'push', ref]);
      const out = `${result.stdout}\n${result.stderr}`;
      const digest = pushedDigest(out);
      if (result.exitCode === 0 && digest) return digest;
      if (isLostEngine(out)) throw new EngineError(noEngineMessage(this.client, out));
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
    if (result.exitCode !== 0) throw clientFailure(this.client, `pull ${ref}`, tail.slice(-5).join('\n'));
  }

  /**
   * Runs a long client call with its output streamed to the terminal, keeping the last lines
   * (and, for builds, the lines `step` matches) for the error message.
   */
  protected async streamed(args: string[], options: { env?: Record<string, string>; signal?: AbortSignal; step?: RegExp }) {
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
    const steps: string[] = [];
    const tail: string[] = [];
    for await (const line of child.iterable({ from: 'all' })) {
      const text = String(line);
      if (options.step?.test(text)) steps.push(text);
      tail.push(text);
      if (tail.length > 40) tail.shift();
    }
    return { result: this.found(await child), tail, steps };
  }
}
