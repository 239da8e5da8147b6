// What the benchmarks share: a throw-away copy of the workspace driven through the real nx CLI,
// the manual README steps (the wheel, then `docker build` of each stage with the same
// Dockerfiles, contexts and build args as nx), timing, and the results file.
import { execa } from 'execa';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { labelInstruction } from '../tools/image-chain/src/engines/engine';
import { hostExtraCas } from '../tools/image-chain/src/build-ca';
import { classicDockerfile } from '../tools/image-chain/src/engines/classic';
import { lastCommitTouching } from '../tools/image-chain/src/git';
import { loadConfig } from '../tools/image-chain/src/config';
import { buildChainModel, dockerfileOptions } from '../tools/image-chain/src/model';

export const REPO = resolve(__dirname, '..');
/** Quiet, local nx: no daemon (its hooks would log elsewhere), no Nx Cloud, plain output. */
export const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };
/** The chain of the default line, in build order. */
export const CHAIN_STAGES = ['os', 'base', 'final', 'extension'];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Seconds fn takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

// Build outputs and tool caches under packages/: a fresh clone has none of them.
const NOT_SOURCES = /\/(dist|__pycache__|\.pytest_cache|\.ruff_cache)(\/|$)|\/\.coverage$/;

/**
 * Copies a workspace (default: this one) into a temp dir and commits it, so the tree you work in
 * is never edited and the revision labels have a commit to name. withCache: also its Nx cache and
 * image records (a warm machine); without: a fresh clone.
 */
export async function copyWorkspace(options: { from?: string; withCache?: boolean } = {}): Promise<string> {
  const from = options.from ?? REPO;
  const dir = mkdtempSync(join(tmpdir(), 'bench-ws-'));
  // The lockfile and .gitignore too: Nx hashes the one and reads the other, so without them no
  // cached entry matches and the copy rebuilds everything (under the real tags).
  const entries = ['nx', 'nx.json', '.nxignore', '.gitignore', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.env', 'images', 'packages', 'tools'];
  if (options.withCache) entries.push('dist', '.nx');
  for (const entry of entries) {
    if (!existsSync(join(from, entry))) continue;
    const filter = entry === 'packages' && !options.withCache ? (src: string) => !NOT_SOURCES.test(src) : undefined;
    cpSync(join(from, entry), join(dir, entry), { recursive: true, filter });
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  await execa('git', ['add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench'], { cwd: dir });
  return dir;
}

/**
 * Runs nx in ws (extraEnv on top of NX_ENV) as a user runs it off a terminal (./nx): in Nx's output
 * style there (static-failures-only: a line for each task from the cache, the full output of the
 * rest), named so that no detection picks another. Resolves to its output, throws with its tail
 * on failure.
 */
export function nxIn(ws: string, extraEnv: Record<string, string> = {}): (...args: string[]) => Promise<string> {
  return async (...args: string[]) => {
    // Through the workspace's ./nx where it has one, as the README runs it.
    const [file, nxArgs] = existsSync(join(ws, 'nx')) ? [join(ws, 'nx'), args] : ['node', [join(ws, 'node_modules/nx/dist/bin/nx.js'), ...args]];
    const r = await execa(file, [...nxArgs, '--output-style=static-failures-only'], {
      cwd: ws, env: { ...process.env, ...NX_ENV, ...extraEnv }, reject: false, all: true,
    });
    if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${String(r.all).slice(-3000)}`);
    return String(r.all);
  };
}

/**
 * Each task of an nx run and whether it came from a cache, from the lines Nx prints for it:
 * "✔  nx run base:docker-build  [remote cache]", or "> nx run extension:docker-build" above a
 * task's full output.
 */
export function tasksOf(output: string): { task: string; cached: boolean; remote: boolean }[] {
  const tasks = new Map<string, { task: string; cached: boolean; remote: boolean }>();
  for (const m of output.matchAll(/^(?:>|✔|✖)\s+nx run (\S+:\S+)(.*)$/gm)) {
    const seen = tasks.get(m[1]) ?? { task: m[1], cached: false, remote: false };
    seen.cached ||= /cache|left as is/.test(m[2]);
    seen.remote ||= /\[remote cache\]/.test(m[2]);
    tasks.set(m[1], seen);
  }
  return [...tasks.values()];
}

/** How many image stages an nx run built (docker-build tasks not served from a cache). */
export function dockerBuildsRan(output: string): number {
  return tasksOf(output).filter((t) => t.task.endsWith(':docker-build') && !t.cached).length;
}

/** The first tag the versions file gives a project's image (applied when an nx run ends). */
export function tagOf(ws: string, project: string): string {
  const model = buildChainModel(ws, globSync('images/*/stage.json', { cwd: ws }), loadConfig(ws), 'images/versions.json');
  return model.images.find((i) => i.name === project)!.tags[0];
}

/**
 * The manual README steps for the default line after the OS image: `python -m build` of the
 * wheel, then a build of base, final and extension FROM the previous image, with the build
 * contexts the executor stages (stage folder, the line's files over it, the wheel), the rendered
 * build args, the host's extra CAs and the same OCI labels, on `builder`: BuildKit
 * (`docker buildx build`, FROM the previous stage's tag, as a person would) or the classic
 * builder (`docker build`, FROM the previous image's ID). dockerEnv picks the engine
 * (DOCKER_HOST). Returns a runner resolving to the extension image ID; onStage gets each step's
 * seconds.
 */
export function manualChain(
  ws: string,
  osImage: string,
  options: { builder?: 'buildkit' | 'classic'; dockerEnv?: Record<string, string>; onStage?: (stage: string, seconds: number) => void } = {},
): () => Promise<string> {
  const builder = options.builder ?? 'buildkit';
  const config = loadConfig(ws);
  const model = buildChainModel(ws, CHAIN_STAGES.map((s) => `images/${s}/stage.json`), config, 'images/versions.json');
  const cas = hostExtraCas();
  const env = { ...process.env, ...NX_ENV, ...options.dockerEnv };
  const lap = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    let result!: T;
    const s = await timed(async () => { result = await fn(); });
    options.onStage?.(stage, s);
    return result;
  };
  const tag = (stage: string) => `bench-manual-${builder}-${stage}`;
  return async () => {
    const pkg = join(ws, 'packages/sagemaker-sklearn-container');
    await lap('wheel', async () => {
      rmSync(join(pkg, 'dist'), { recursive: true, force: true });
      await execa('python3', ['-m', 'build', '--wheel', '--no-isolation', '--outdir', 'dist', '.'], { cwd: pkg, env: { ...env, SOURCE_DATE_EPOCH: '315532800' } });
    });
    await execa('docker', ['tag', osImage, tag('os')], { env });
    let upstream = 'os';
    let image = osImage;
    for (const stage of ['base', 'final', 'extension']) {
      const o = dockerfileOptions(model.images.find((i) => i.name === stage)!);
      image = await lap(stage, async () => {
        // The context as the executor stages it: the stage folder without lines/, the line's files over it, artifacts.
        const context = mkdtempSync(join(tmpdir(), `bench-manual-${stage}-`));
        try {
          cpSync(join(ws, o.context), join(context, 'ctx'), { recursive: true, filter: (src) => !src.startsWith(join(ws, o.context, 'lines')) });
          if (o.lineDir && existsSync(join(ws, o.lineDir))) cpSync(join(ws, o.lineDir), join(context, 'ctx'), { recursive: true });
          for (const a of o.artifacts) {
            for (const file of globSync(a.files, { cwd: ws })) cpSync(join(ws, file), join(context, 'ctx', a.into, basename(file)));
          }
          const dockerfile = join(context, 'ctx', o.dockerfile.slice(o.context.length + 1));
          // The same image as nx builds: its OCI labels in one LABEL step, as nx adds them
          // (`docker build --label` would cost the classic builder one step per label).
          const revision = await lastCommitTouching(ws, o.revisionPaths);
          appendFileSync(dockerfile, `\n${labelInstruction({ ...o.labels, 'org.opencontainers.image.revision': revision })}\n`);
          const iid = join(context, 'iid');
          const from = builder === 'classic' ? image : tag(upstream);
          const args = builder === 'classic' ? ['build'] : ['buildx', 'build', '--provenance=false'];
          args.push('--network', 'host', '-q', '--iidfile', iid, '-f', dockerfile, '-t', tag(stage), '--build-arg', `UPSTREAM=${from}`);
          for (const [k, v] of Object.entries(o.buildArgs)) args.push('--build-arg', `${k}=${v}`);
          if (cas && builder === 'buildkit') {
            writeFileSync(join(context, 'ca.pem'), cas);
            args.push('--secret', `id=build-ca,src=${join(context, 'ca.pem')}`);
          }
          args.push(join(context, 'ctx'));
          if (builder === 'classic') writeFileSync(dockerfile, classicDockerfile(readFileSync(dockerfile, 'utf8'), dockerfile));
          await execa('docker', args, { env: { ...env, DOCKER_BUILDKIT: builder === 'classic' ? '0' : '1' } });
          return readFileSync(iid, 'utf8').trim();
        } finally {
          rmSync(context, { recursive: true, force: true });
        }
      });
      upstream = stage;
    }
    return image;
  };
}

/** Replaces (or appends) one benchmark's section in docs/benchmarks.md. */
export function writeSection(key: string, body: string): void {
  const file = join(REPO, 'docs/benchmarks.md');
  const begin = `<!-- bench:${key}:begin -->`;
  const end = `<!-- bench:${key}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nEach section is written by the script it names.\n';
  const block = `${begin}\n${body}\n${end}`;
  const s = text.indexOf(begin);
  const e = text.indexOf(end);
  text = s >= 0 && e >= 0 ? `${text.slice(0, s)}${block}${text.slice(e + end.length)}` : `${text.trimEnd()}\n\n${block}\n`;
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  writeFileSync(file, text);
}
