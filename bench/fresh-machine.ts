// Benchmark (issue #4): a fresh machine with a warm shared cache and registry. On an empty
// engine, `nx run extension:docker-build` in a fresh clone against
//   - the manual README steps from scratch (debootstrap + import, the wheel, three docker builds),
//     target: nx faster by at least TARGET_MANUAL_OVER_NX;
//   - a raw `docker pull` of the same images by digest, target: nx within TARGET_NX_OVER_PULL of the pull.
// Writes the table into docs/benchmarks.md (section "fresh-machine").
// With --lines: instead, each version line's `nx run extension-<line>:docker-build` on its own
// fresh engine B (one run per line), with its images' sizes (section "fresh-machine-lines").
//
//   tools/node/env.sh node -r @swc-node/register bench/fresh-machine.ts [--runs 3] [--lines]
//
// --runs repeats every side (nx, pull, manual: medians), taking turns in a rotating order.
// The flow mirrors tools/image-chain/test/integration/fresh-machine.test.ts on the real chain:
// machine A (the main engine) builds with IMAGE_CHAIN_REGISTRY and the shared cache set, so every
// stage is pushed by digest and cached; machine B is a second dockerd with an empty data root and
// a clone of the same tree with an empty .nx. Each side gets its own new engine B.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../tools/image-chain/src/config';
import { readRecord, type ImageRecord } from '../tools/image-chain/src/record';
import { startRegistry } from '../tools/image-chain/test/registry';
import { startSecondEngine, type SecondEngine } from '../tools/image-chain/test/second-engine';
import { startRemoteCache } from '../tools/remote-cache/server';
import { projectName } from '../tools/image-chain/src/tags';
import { osProjectName } from '../tools/image-chain/src/model';
import { CHAIN_STAGES, copyWorkspace, manualChain, median, nxIn, tagOf, tasksOf, timed, writeSection } from './common';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const TARGET_MANUAL_OVER_NX = 5;
const TARGET_NX_OVER_PULL = 1.3;
// What os-image.ts gives the imported OS image (debootstrap leaves no ENV in it).
const OS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const secs = (s: number) => `${s.toFixed(1)} s`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Clean-ups, run last-in first-out and each once: when done, on failure and on Ctrl-C. */
class Cleanups {
  private entries: { name: string; fn: () => Promise<void> }[] = [];

  /** Registers fn; the returned function runs it now (and unregisters it). */
  add(name: string, fn: () => Promise<void>): () => Promise<void> {
    const entry = { name, fn };
    this.entries.push(entry);
    return async () => {
      this.entries = this.entries.filter((e) => e !== entry);
      await fn();
    };
  }

  async runAll(): Promise<void> {
    for (let entry = this.entries.pop(); entry; entry = this.entries.pop()) {
      try {
        await entry.fn();
      } catch (e) {
        console.error(`clean-up "${entry.name}" failed: ${(e as Error).message}`);
      }
    }
  }
}

const cleanups = new Cleanups();

function removeDir(dir: string): () => Promise<void> {
  return cleanups.add(`remove ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
}

/**
 * Gives the copy's images repositories of their own, so machine A's run never moves the real
 * tags (sklearn-base:1.9-0-cpu-py3, ...) on the main engine. Names do not change what is built.
 */
function ownRepositories(ws: string, prefix: string): void {
  const file = join(ws, 'images/versions.json');
  const versions = JSON.parse(readFileSync(file, 'utf8'));
  for (const image of Object.values(versions.images) as { repository: string }[]) image.repository = `${prefix}-${image.repository}`;
  writeFileSync(file, `${JSON.stringify(versions, null, 2)}\n`);
}

/** Removes from the main engine the images tagged under our prefix (and their pushed digests), nothing else. */
async function removeOwnImages(prefix: string, registry: string): Promise<void> {
  const mine = (ref: string) => ref.startsWith(`${prefix}-`) || ref.startsWith(`${registry}/${prefix}-`);
  const ls = await execa('docker', ['image', 'ls', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.CreatedAt}}']);
  const rows = String(ls.stdout).split('\n').filter(Boolean).map((l) => l.split(' '));
  // Newest first: a stage goes before the stage it was built FROM.
  const ids = [...new Set(rows.filter(([ref]) => mine(ref)).sort((a, b) => b.slice(2).join(' ').localeCompare(a.slice(2).join(' '))).map((r) => r[1]))];
  for (const id of ids) {
    const info = await execa('docker', ['image', 'inspect', '-f', '{{json .RepoTags}} {{json .RepoDigests}}', id], { reject: false });
    if (info.exitCode !== 0) continue;
    const refs = String(info.stdout).split(' ').flatMap((j) => (JSON.parse(j) ?? []) as string[]);
    // Untag ours one by one: the last reference going deletes the image (and its build parents).
    for (const ref of refs.filter(mine)) await execa('docker', ['image', 'rm', ref], { reject: false });
  }
}

/** One new, empty engine B for fn, stopped (data removed) afterwards. */
async function withFreshEngine<T>(fn: (b: SecondEngine) => Promise<T>): Promise<T> {
  const b = await startSecondEngine();
  const stop = cleanups.add(`stop engine ${b.host}`, () => b.stop());
  try {
    return await fn(b);
  } finally {
    await stop();
    // The next side starts with this engine's writes and deletions on disk, not still in flight.
    await execa('sync');
  }
}

/** The manual OS step, as images/os/README.md gives it: debootstrap, then tar | docker import. */
async function manualOsImage(ws: string, dockerEnv: Record<string, string>): Promise<string> {
  const config = loadConfig(ws);
  const suite = config.lines[config.defaultLine].os;
  const os = { suite, ...config.os[suite] };
  const work = mkdtempSync(join(tmpdir(), 'bench-debootstrap-'));
  try {
    const rootfs = join(work, 'rootfs');
    const args = [`--variant=${os.variant}`, ...(os.include.length ? [`--include=${os.include.join(',')}`] : []), os.suite, rootfs, os.mirror];
    await execa('debootstrap', args);
    // The same trimming as os-image.ts: apt lists and downloaded packages are not kept.
    rmSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    // Streamed, not buffered: the root file system is a few hundred MB.
    const imported = await execa('tar', ['--numeric-owner', '-C', rootfs, '-c', '.'], { buffer: false }).pipe(
      'docker', ['image', 'import', '--change', `ENV PATH=${OS_PATH}`, '--change', 'CMD ["bash"]', '-', 'bench-manual-os'], { env: dockerEnv },
    );
    return String(imported.stdout).trim();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The manual README steps from scratch on a fresh engine B: nothing cached anywhere. */
async function manualFromScratch(from: string): Promise<{ seconds: number; laps: Record<string, number>; size: number }> {
  return withFreshEngine(async (b) => {
    const ws = await copyWorkspace({ from });
    const remove = removeDir(ws);
    const dockerEnv = { DOCKER_HOST: b.host };
    const laps: Record<string, number> = {};
    let extension = '';
    const seconds = await timed(async () => {
      let osImage = '';
      laps.os = await timed(async () => { osImage = await manualOsImage(ws, dockerEnv); });
      extension = await manualChain(ws, osImage, { dockerEnv, onStage: (stage, t) => (laps[stage] = t) })();
    });
    const size = Number(await b.docker('image', 'inspect', '-f', '{{.Size}}', extension));
    await remove();
    console.log(`manual steps on fresh engine B: ${secs(seconds)} (${Object.entries(laps).map(([k, v]) => `${k} ${secs(v)}`).join(', ')})`);
    return { seconds, laps, size };
  });
}

/** Compressed size of a pushed image (what a pull downloads at most), from its manifest. */
async function pushedBytes(pushed: string): Promise<number> {
  const [name, digest] = pushed.split('@');
  const registry = name.slice(0, name.indexOf('/'));
  const repo = name.slice(registry.length + 1);
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${digest}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  const manifest = (await res.json()) as { config: { size: number }; layers: { size: number }[] };
  return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}

/**
 * The registry and shared cache both machines use, and machine A's workspace: the main engine,
 * a read-write token, an empty Nx cache (the main workspace's entries were recorded without
 * this registry: a hit of one of them never pushes). All removed at the end.
 */
async function machineA() {
  const registry = await startRegistry();
  cleanups.add('stop the registry', () => registry.stop());
  const cache = await startRemoteCache();
  cleanups.add('stop the remote cache', () => cache.stop());
  const wsA = await copyWorkspace();
  removeDir(wsA);
  const prefix = `fm${process.pid}`;
  ownRepositories(wsA, prefix);
  cleanups.add('remove our images from the main engine', () => removeOwnImages(prefix, registry.host));
  return { registry, cache, wsA, shared: { IMAGE_CHAIN_REGISTRY: registry.host, NX_SELF_HOSTED_REMOTE_CACHE_SERVER: cache.url } };
}

/**
 * Each line's extension image restored on a fresh engine B: machine A builds and pushes every
 * line, then per line a new engine B and a fresh clone run `nx run extension-<line>:docker-build`.
 */
async function perLine(): Promise<void> {
  const loadBefore = load();
  const started = new Date();
  const { registry, cache, wsA, shared } = await machineA();
  const config = loadConfig(wsA);
  const lines = Object.keys(config.lines).sort();
  const chainOf = (line: string) => [osProjectName(config, 'os', config.lines[line].os), ...CHAIN_STAGES.slice(1).map((s) => projectName(s, line, config.defaultLine))];
  console.log(`machine A: ${wsA}, registry ${registry.host}; building and pushing every line`);
  const warmA = await timed(() => nxIn(wsA, { ...shared, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.rwToken })('run-many', '-t', 'docker-build', '-p', 'extension*'));
  const rows: string[] = [];
  for (const line of lines) {
    const chain = chainOf(line);
    const records = chain.map((p) => readRecord(wsA, p));
    await withFreshEngine(async (b) => {
      const wsB = await copyWorkspace({ from: wsA });
      const remove = removeDir(wsB);
      let out = '';
      const s = await timed(async () => {
        out = await nxIn(wsB, { ...shared, DOCKER_HOST: b.host, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.roToken })('run', `${chain[3]}:docker-build`);
      });
      const notRemote = tasksOf(out).filter((t) => !t.remote);
      if (notRemote.length) throw new Error(`line ${line}: nx on B did not take every task from the shared cache: ${notRemote.map((t) => t.task).join(', ')}`);
      const sizes: string[] = [];
      for (const r of records) {
        const id = (await b.docker('image', 'inspect', '-f', '{{.Id}}', tagOf(wsB, r.project))).trim();
        if (id !== r.image) throw new Error(`engine B: ${r.project} is ${id}, machine A recorded ${r.image}`);
        sizes.push(mb(Number(await b.docker('image', 'inspect', '-f', '{{.Size}}', id))));
      }
      // The extension's manifest lists every layer of the chain below it: what B pulled.
      const pulled = await pushedBytes(records[3].pushed[0]);
      rows.push(`| ${line}${line === config.defaultLine ? ' (default)' : ''} | ${config.lines[line].os} | ${secs(s)} | ${sizes.join(' / ')} | ${mb(pulled)} |`);
      console.log(`line ${line}: restored on fresh engine B in ${secs(s)}`);
      await remove();
    });
  }
  const section = [
    '## Fresh machine, per version line: the extension image restored',
    '',
    `Measured ${started.toISOString().slice(0, 10)} on this machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, shared with other work (load average ${loadBefore} before, ${load()} after).`,
    'Machine A built and pushed every line (`nx run-many -t docker-build -p "extension*"`, a registry and shared cache of its own; ' + `${secs(warmA)}). Then, per line, a new empty Docker engine B and a fresh clone ran \`nx run extension-<line>:docker-build\`: every task a remote cache hit, each image pulled by its recorded digest and checked to be the ID machine A recorded. One run per line.`,
    'Reproduce: `tools/node/env.sh node -r @swc-node/register bench/fresh-machine.ts --lines`.',
    '',
    '| line | OS | restore on fresh engine B | os / base / final / extension size in engine B | pulled, compressed (the extension\'s layers: the whole chain) |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  writeSection('fresh-machine-lines', section);
  console.log(`\n${section}`);
}

async function main(): Promise<void> {
  const loadBefore = load();
  const started = new Date();
  const { registry, cache, wsA, shared } = await machineA();
  console.log(`machine A: ${wsA}, registry ${registry.host}, shared cache ${cache.url}; building and pushing the chain`);
  const warmA = await timed(() => nxIn(wsA, { ...shared, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.rwToken })('run', 'extension:docker-build'));
  const records = new Map<string, ImageRecord>(CHAIN_STAGES.map((s) => [s, readRecord(wsA, s)]));
  for (const r of records.values()) if (r.pushed.length !== 1) throw new Error(`machine A did not push ${r.project}: ${JSON.stringify(r.pushed)}`);
  console.log(`machine A done in ${secs(warmA)}`);

  // Machine B: a clone of the same tree (no .nx, no dist), its own empty engine, a read-only token.
  const envB = (b: SecondEngine) => ({ ...shared, DOCKER_HOST: b.host, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: cache.roToken });
  const nxTimes: number[] = [];
  const pullTimes: number[] = [];
  const sizes = new Map<string, number>();
  let tasks: string[] = [];
  const nxSide = () => withFreshEngine(async (b) => {
    const wsB = await copyWorkspace({ from: wsA });
    const remove = removeDir(wsB);
    let out = '';
    const s = await timed(async () => { out = await nxIn(wsB, envB(b))('run', 'extension:docker-build'); });
    // Valid only if nothing was built on B: every task a remote hit, every image as A recorded it.
    const all = tasksOf(out);
    tasks = all.map((t) => t.task);
    const notRemote = all.filter((t) => !t.remote);
    if (all.length === 0 || notRemote.length) throw new Error(`nx on B did not take every task from the shared cache: ${notRemote.map((t) => t.task).join(', ')}\n${out.slice(-3000)}`);
    for (const [stage, a] of records) {
      const id = (await b.docker('image', 'inspect', '-f', '{{.Id}}', tagOf(wsB, stage))).trim();
      if (id !== a.image) throw new Error(`engine B: ${stage} is ${id}, machine A recorded ${a.image}`);
      sizes.set(stage, Number(await b.docker('image', 'inspect', '-f', '{{.Size}}', id)));
    }
    // A docker build would leave its intermediate images: B must hold exactly the four pulled ones.
    const present = new Set((await b.docker('image', 'ls', '-a', '-q', '--no-trunc')).split('\n').filter(Boolean));
    const expected = new Set([...records.values()].map((r) => r.image));
    if (present.size !== expected.size || [...present].some((id) => !expected.has(id))) throw new Error(`engine B holds other images than the pulled ones: ${[...present].join(', ')}`);
    await remove();
    console.log(`nx on fresh engine B: ${secs(s)} (${all.length} tasks, all [remote cache])`);
    return s;
  });
  const pullSide = () => withFreshEngine(async (b) => {
    // What the nx run pulled, in its order: the recorded digests.
    const s = await timed(async () => {
      for (const r of records.values()) await b.docker('pull', r.pushed[0]);
    });
    for (const r of records.values()) {
      const id = (await b.docker('image', 'inspect', '-f', '{{.Id}}', r.pushed[0])).trim();
      if (id !== r.image) throw new Error(`engine B: ${r.pushed[0]} is ${id}, not ${r.image}`);
    }
    console.log(`docker pull on fresh engine B: ${secs(s)}`);
    return s;
  });
  const manualRuns: Awaited<ReturnType<typeof manualFromScratch>>[] = [];
  // The three sides take turns, each run in another order: this machine's speed drifts a lot
  // within a benchmark (its page allocation, not its disk; docs/benchmarks.md), so every side is
  // sampled across the same period rather than one of them at its start.
  const sides = [
    async () => nxTimes.push(await nxSide()),
    async () => pullTimes.push(await pullSide()),
    async () => manualRuns.push(await manualFromScratch(wsA)),
  ];
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < sides.length; k++) await sides[(i + k) % sides.length]();
  }
  const manual = median(manualRuns.map((r) => r.seconds));
  // The laps shown are the median run's (the lower middle one for an even count).
  const byTime = [...manualRuns].sort((a, b) => a.seconds - b.seconds);
  const { laps, size: manualSize } = byTime[Math.floor((byTime.length - 1) / 2)];

  const nx = median(nxTimes);
  const pull = median(pullTimes);
  const manualOverNx = manual / nx;
  const nxOverPull = nx / pull;
  const pass = (ok: boolean) => (ok ? 'pass' : '**FAIL**');
  const each = (xs: number[]) => (xs.length > 1 ? ` (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})` : '');
  const imageRows: string[] = [];
  for (const [stage, r] of records) {
    imageRows.push(`| ${stage} | \`${r.image.slice(7, 19)}\` | ${mb(sizes.get(stage)!)} | ${mb(await pushedBytes(r.pushed[0]))} |`);
  }
  const section = [
    '## Fresh machine: warm shared cache and registry',
    '',
    `Measured ${started.toISOString().slice(0, 10)} on this machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, shared with other work (load average ${loadBefore} before, ${load()} after).`,
    `Each side runs on its own new Docker engine B (a second dockerd 20.10, overlay2, empty data root) against the same registry (Debian's docker-registry on 127.0.0.1) and shared cache (tools/remote-cache, read-only token).`,
    `Every side: ${runs === 1 ? 'one run' : `${runs} runs, taking turns in a rotating order, medians`}.`,
    'Reproduce: `tools/node/env.sh node -r @swc-node/register bench/fresh-machine.ts`.',
    '',
    '| side (fresh engine B) | time |',
    '|---|---|',
    `| \`nx run extension:docker-build\` in a fresh clone (empty .nx): ${tasks.length} tasks, all \`[remote cache]\`, 0 docker builds, 4 pulls by recorded digest | ${secs(nx)}${each(nxTimes)} |`,
    `| raw \`docker pull\` of the same 4 digests, one after the other | ${secs(pull)}${each(pullTimes)} |`,
    `| manual README steps from scratch (median run: debootstrap + import ${secs(laps.os)}, wheel ${secs(laps.wheel)}, base ${secs(laps.base)}, final ${secs(laps.final)}, extension ${secs(laps.extension)}) | ${secs(manual)}${each(manualRuns.map((r) => r.seconds))} |`,
    '',
    '| target (issue #4) | measured | target | result |',
    '|---|---|---|---|',
    `| manual steps / nx | ${manualOverNx.toFixed(1)}x | at least ${TARGET_MANUAL_OVER_NX}x | ${pass(manualOverNx >= TARGET_MANUAL_OVER_NX)} |`,
    `| nx / docker pull | ${nxOverPull.toFixed(2)}x | at most ${TARGET_NX_OVER_PULL}x | ${pass(nxOverPull <= TARGET_NX_OVER_PULL)} |`,
    '',
    `| image (default line ${loadConfig(wsA).defaultLine}) | ID | size in engine B | pushed, compressed |`,
    '|---|---|---|---|',
    ...imageRows,
    '',
    `The manual steps' extension image: ${mb(manualSize)} in the engine.`,
    `Set-up, not compared: machine A's run that filled the shared cache and the registry took ${secs(warmA)}. It starts from an empty cache`,
    'and builds every stage (the OS stage is bootstrapped anew, so the stages FROM it find nothing in the layer cache), then pushes each by digest;',
    "its images carry a repository prefix of their own so that the main engine's tags are never moved.",
  ].join('\n');
  writeSection('fresh-machine', section);
  console.log(`\n${section}`);
}

if (require.main === module) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: cleaning up`);
      void cleanups.runAll().finally(() => process.exit(130));
    });
  }
  (process.argv.includes('--lines') ? perLine() : main())
    .catch((e) => {
      // A failed command's message carries all its output: show its head and the end of stderr.
      const err = e as Error & { shortMessage?: string; stderr?: unknown };
      console.error(err.shortMessage ? `${err.shortMessage}\n${String(err.stderr ?? '').slice(-3000)}` : (err.stack ?? String(e)));
      process.exitCode = 1;
    })
    .finally(() => cleanups.runAll());
}
