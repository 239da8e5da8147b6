// Benchmark: `nx run extension:docker-build` against the manual README steps (wheel build, then
// `docker build` of each stage with the same Dockerfiles, contexts and build args), in one run
// on one engine. Scenarios: a no-op with a warm engine, a one-line change in the Python
// package, a change only in the extension Dockerfile. Prints medians and ratios and writes
// them into docs/benchmarks.md.
//
//   node -r @swc-node/register bench/chain.ts [--runs 3]
//
// It works in a copy of the workspace (its Nx cache and records copied along), so the tree you
// work in is never edited.
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostExtraCas } from '../tools/image-chain/src/executors/common';
import { loadConfig } from '../tools/image-chain/src/config';
import { buildChainModel } from '../tools/image-chain/src/model';
import { readRecord } from '../tools/image-chain/src/record';

const REPO = resolve(__dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function copyWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ws-'));
  for (const entry of ['nx.json', '.nxignore', 'package.json', 'tsconfig.base.json', '.env', 'images', 'packages', 'tools', 'dist', '.nx']) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function main(): Promise<void> {
  const ws = copyWorkspace();
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: ws });
  await execa('git', ['add', '-A'], { cwd: ws });
  await execa('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench'], { cwd: ws });
  const nx = async (...args: string[]) => {
    const r = await execa('node', [join(ws, 'node_modules/nx/dist/bin/nx.js'), ...args, '--output-style=static'], { cwd: ws, env, reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${String(r.all).slice(-3000)}`);
    return String(r.all);
  };
  console.log(`bench workspace: ${ws}; warming up (builds whatever the copied cache lacks)`);
  await nx('run', 'extension:docker-build');

  // The manual README steps: the same Dockerfiles, contexts and rendered build args.
  const config = loadConfig(ws);
  const model = buildChainModel(ws, ['images/os/stage.json', 'images/base/stage.json', 'images/final/stage.json', 'images/extension/stage.json'], config, 'images/versions.json');
  const osImage = readRecord(ws, 'os').image;
  const cas = hostExtraCas();
  const manual = async () => {
    const pkg = join(ws, 'packages/sagemaker-sklearn-container');
    rmSync(join(pkg, 'dist'), { recursive: true, force: true });
    await execa('python3', ['-m', 'build', '--wheel', '--no-isolation', '--outdir', 'dist', '.'], { cwd: pkg, env: { ...env, SOURCE_DATE_EPOCH: '315532800' } });
    let upstream = osImage;
    for (const stage of ['base', 'final', 'extension']) {
      const image = model.images.find((i) => i.name === stage)!;
      const context = join(ws, image.options.context);
      if (stage === 'final') {
        mkdirSync(join(context, 'wheels'), { recursive: true });
        cpSync(join(pkg, 'dist'), join(context, 'wheels'), { recursive: true });
      }
      const args = ['build', '--network', 'host', '-q', '-t', `bench-manual-${stage}`, '--build-arg', `UPSTREAM=${upstream}`];
      for (const [k, v] of Object.entries(image.options.buildArgs)) args.push('--build-arg', `${k}=${v}`);
      if (cas) args.push('--build-arg', `BUILD_CA_CERT_B64=${cas}`);
      args.push(context);
      const r = await execa('docker', args, { env: { ...env, DOCKER_BUILDKIT: '0' } });
      upstream = String(r.stdout).trim().split('\n').pop()!;
      if (stage === 'final') rmSync(join(context, 'wheels'), { recursive: true, force: true });
    }
  };
  await manual(); // warm the manual side's layer cache too

  let edit = 0;
  const changePackage = () => {
    const f = join(ws, 'packages/sagemaker-sklearn-container/src/sagemaker_sklearn_container/__init__.py');
    writeFileSync(f, `${readFileSync(f, 'utf8')}# bench edit ${++edit}\n`);
  };
  const changeExtension = () => {
    const f = join(ws, 'images/extension/Dockerfile');
    writeFileSync(f, `${readFileSync(f, 'utf8')}RUN echo bench edit ${++edit} > /tmp/bench-edit\n`);
  };
  // A step that does real work: what a change to the extension's checks looks like.
  const addExtensionCheck = () => {
    const f = join(ws, 'images/extension/Dockerfile');
    const check = `import sagemaker_sklearn_extension.feature_extraction.sequences, sklearn; print("bench edit ${++edit}", sklearn.__version__)`;
    writeFileSync(f, `${readFileSync(f, 'utf8')}RUN python3 -c '${check}'\n`);
  };
  const scenarios: { name: string; change: () => void }[] = [
    { name: 'no-op, warm engine', change: () => {} },
    { name: 'one-line change in the Python package', change: changePackage },
    { name: 'change only in the extension Dockerfile: a step importing the extension', change: addExtensionCheck },
    { name: 'change only in the extension Dockerfile: a trivial `RUN echo` (fixed costs only)', change: changeExtension },
  ];
  const rows: string[] = [];
  for (const scenario of scenarios) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let builds = -1;
    for (let i = 0; i < runs; i++) {
      // Each side gets a change of its own, so neither finds the other's result in a cache.
      scenario.change();
      let out = '';
      ours.push(await timed(async () => { out = await nx('run', 'extension:docker-build'); }));
      builds = [...out.matchAll(/^> nx run \S+:docker-build(?!.*(cache|left as is))/gm)].length;
      scenario.change();
      theirs.push(await timed(manual));
    }
    const row = `| ${scenario.name} | ${median(ours).toFixed(2)} s | ${median(theirs).toFixed(2)} s | ${(median(ours) / median(theirs)).toFixed(2)} | ${builds} |`;
    console.log(row);
    rows.push(row);
  }
  rmSync(ws, { recursive: true, force: true });

  const section = [
    '## Chain: nx against the manual steps',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on this 2-core machine, ${runs} runs per side and scenario, medians; ratio = nx / manual (lower is better).`,
    'Reproduce: `node -r @swc-node/register bench/chain.ts --runs 3`.',
    '',
    '| scenario | nx run extension:docker-build | manual README steps | ratio | image stages nx ran |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Targets (issue "image chain"): no-op at most 1.5 s with zero docker builds; the change scenarios at most 1.1x the manual steps.',
  ].join('\n');
  writeSection('chain', section);
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

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
