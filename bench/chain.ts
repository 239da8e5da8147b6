// Benchmark: `nx run extension:docker-build` against the manual README steps (wheel build, then
// a build of each stage with the same Dockerfiles, contexts and build args), in one run on one
// engine, on each builder (BuildKit and the classic one) side by side. Scenarios: the cold build
// of the whole chain (nx only: every step built anew), a no-op with a warm engine, a one-line
// change in the Python package, a change only in the extension Dockerfile. Prints medians and
// ratios and writes them into docs/benchmarks.md.
//
//   tools/node/env.sh node -r @swc-node/register bench/chain.ts [--runs 3] [--only 'RUN echo'] [--builder buildkit|classic]
//
// It works in a copy of the workspace (its Nx cache and records copied along), so the tree you
// work in is never edited.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostExtraCas } from '../tools/image-chain/src/build-ca';
import { engineFor } from '../tools/image-chain/src/engines';
import { readRecord } from '../tools/image-chain/src/record';
import { copyWorkspace, dockerBuildsRan, manualChain, median, nxIn, REPO, timed, writeSection } from './common';

export { writeSection } from './common';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
// --only TEXT: just the scenarios whose name contains TEXT (for a quick look; docs/benchmarks.md is left alone).
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
type Builder = 'buildkit' | 'classic';
const builders: Builder[] = process.argv.includes('--builder') ? [process.argv[process.argv.indexOf('--builder') + 1] as Builder] : ['buildkit', 'classic'];

interface Result {
  builder: Builder;
  /** Seconds of a cold nx build of the whole chain (the OS image reused). */
  cold: number | null;
  rows: string[];
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const builder of builders) results.push(await benchBuilder(builder));
  if (only) return;
  const cold = Object.fromEntries(results.map((r) => [r.builder, r.cold]));
  const packages: Partial<Record<Builder, number>> = {};
  for (const builder of builders) packages[builder] = await coldOsPackages(builder); // one after the other: two at once would share the cores
  const section = [
    '## Chain: nx against the manual steps, on each builder',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on this 2-core machine (Docker ${await engineVersion()}, the engine's own image store) with Node ${process.versions.node} and Nx ${nxVersion()}, ${runs} runs per side and scenario (the sides take turns going first), medians; ratio = nx / manual on the same builder (lower is better).`,
    `Reproduce: \`tools/node/env.sh node -r @swc-node/register bench/chain.ts --runs ${runs}\`.`,
    '',
    '| builder | scenario | nx run extension:docker-build | manual README steps | ratio | image stages nx ran |',
    '|---|---|---|---|---|---|',
    ...results.flatMap((r) => r.rows),
    '',
    `Cold build of the whole chain (\`IMAGE_CHAIN_NO_CACHE=true\`, every step anew, the OS image reused), nx: ${builders.map((b) => `${b} ${cold[b] ? `${cold[b]!.toFixed(0)} s` : 'not measured (see below)'}`).join(', ')}${cold.buildkit && cold.classic ? `, ratio ${(cold.buildkit / cold.classic).toFixed(2)}` : ''}.`,
    '',
    `Cold build of base's OS packages (its Dockerfile up to the pip step: apt, the Java runtime stage, Python, nginx, the venv; what either builder can build on a host whose pip needs extra CA certificates), FROM the OS image, no layer cache: ${builders.map((b) => `${b} ${packages[b]!.toFixed(0)} s`).join(', ')}${packages.buildkit && packages.classic ? `, ratio ${(packages.buildkit / packages.classic).toFixed(2)}` : ''}.`,
    '',
    'Targets: BuildKit\'s cold build at most 0.9x the classic builder\'s; no-op at most 1.5 s with zero docker builds; the change scenarios at most 1.1x the manual steps on the same builder.',
  ].join('\n');
  writeSection('chain', section);
}

async function benchBuilder(builder: Builder): Promise<Result> {
  if (builder === 'classic' && hostExtraCas()) {
    // It would have to leave the certificates in the images: it refuses such builds.
    console.log('classic: this host gives builds extra CA certificates, which the classic builder refuses; its chain scenarios are not measured here');
    return { builder, cold: null, rows: ['| classic | every scenario | not measured: this host\'s pip needs extra CA certificates, which the classic builder refuses (it would leave them in the images) | | | |'] };
  }
  const ws = await copyWorkspace({ withCache: true });
  const versions = join(ws, 'images/versions.json');
  const config = JSON.parse(readFileSync(versions, 'utf8'));
  config.docker.builder = builder;
  writeFileSync(versions, `${JSON.stringify(config, null, 2)}\n`);
  const nx = nxIn(ws);
  console.log(`bench workspace (${builder}): ${ws}; warming up (builds whatever the copied cache lacks)`);
  await nx('run', 'extension:docker-build');
  let coldOutput = '';
  const cold = only ? null : await timed(async () => { coldOutput = await nxIn(ws, { IMAGE_CHAIN_NO_CACHE: 'true' })('run', 'extension:docker-build', '--skip-nx-cache'); });
  if (cold && dockerBuildsRan(coldOutput) < 4) throw new Error(`the cold build ran ${dockerBuildsRan(coldOutput)} image stages, not all four:\n${coldOutput.slice(-2000)}`);
  if (cold) console.log(`${builder}: cold build of the whole chain ${cold.toFixed(1)} s`);

  // The manual README steps: the same Dockerfiles, contexts and rendered build args.
  const manual = manualChain(ws, readRecord(ws, 'os').image, { builder });
  await manual(); // warm the manual side's layer cache too

  // Edits unique to this invocation: the engine's layer cache outlives a run, and an edit made
  // by an earlier run would be a cache hit for the manual steps. Each edit replaces the one
  // before (the file is its original plus one line): appended edits piled up, and a side that
  // ran after the other found the other's last step not in its own chain and built two steps.
  const nonce = Date.now().toString(36);
  let edit = 0;
  const editor = (file: string) => {
    const original = readFileSync(join(ws, file), 'utf8');
    return (line: string) => writeFileSync(join(ws, file), `${original}${line}\n`);
  };
  const editPackage = editor('packages/sagemaker-sklearn-container/src/sagemaker_sklearn_container/__init__.py');
  const editExtension = editor('images/extension/Dockerfile');
  const changePackage = () => editPackage(`# bench edit ${nonce}-${++edit}`);
  const changeExtension = () => editExtension(`RUN echo bench edit ${nonce}-${++edit} > /tmp/bench-edit`);
  // A step that does real work: what a change to the extension's checks looks like.
  const addExtensionCheck = () => {
    const check = `import sagemaker_sklearn_extension.feature_extraction.sequences, sklearn; print("bench edit ${nonce}-${++edit}", sklearn.__version__)`;
    editExtension(`RUN python3 -c '${check}'`);
  };
  const scenarios: { name: string; change: () => void }[] = [
    { name: 'no-op, warm engine', change: () => {} },
    { name: 'one-line change in the Python package', change: changePackage },
    { name: 'change only in the extension Dockerfile: a step importing the extension', change: addExtensionCheck },
    { name: 'change only in the extension Dockerfile: a trivial `RUN echo` (fixed costs only)', change: changeExtension },
  ];
  const rows: string[] = [];
  for (const scenario of scenarios.filter((s) => !only || s.name.includes(only))) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let builds = -1;
    for (let i = 0; i < runs; i++) {
      // Each side gets a change of its own, so neither finds the other's result in a cache; the
      // sides take turns going first (this machine's speed drifts within a run).
      const ourTurn = async () => {
        scenario.change();
        let out = '';
        ours.push(await timed(async () => { out = await nx('run', 'extension:docker-build'); }));
        builds = dockerBuildsRan(out);
      };
      const theirTurn = async () => {
        scenario.change();
        theirs.push(await timed(manual));
      };
      if (i % 2 === 0) {
        await ourTurn();
        await theirTurn();
      } else {
        await theirTurn();
        await ourTurn();
      }
    }
    const row = `| ${builder} | ${scenario.name} | ${median(ours).toFixed(2)} s | ${median(theirs).toFixed(2)} s | ${(median(ours) / median(theirs)).toFixed(2)} | ${builds} |`;
    console.log(row);
    if (only) console.log(`  nx runs: ${ours.map((t) => t.toFixed(2)).join(' ')}; manual runs: ${theirs.map((t) => t.toFixed(2)).join(' ')}`);
    rows.push(row);
  }
  rmSync(ws, { recursive: true, force: true });
  return { builder, cold, rows };
}

/**
 * Seconds of a cold build of base's Dockerfile up to its pip step, FROM this workspace's OS
 * image, through the chain's own engine adapter for `builder` (the parallel Java-runtime stage is
 * where BuildKit gains; the pip steps run one after another on either builder).
 */
async function coldOsPackages(builder: Builder): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `bench-packages-${builder}-`));
  try {
    const text = readFileSync(join(REPO, 'images/base/Dockerfile'), 'utf8');
    const cut = text.indexOf('# Build-time helpers');
    if (cut < 0) throw new Error('images/base/Dockerfile: no "# Build-time helpers" line to cut at');
    writeFileSync(join(dir, 'Dockerfile'), text.slice(0, cut));
    const engine = engineFor({ client: 'docker', network: 'host', builder });
    const seconds = await timed(() => engine.build({ dockerfile: join(dir, 'Dockerfile'), context: dir, upstream: readRecord(REPO, 'os').image, buildArgs: {}, network: 'host', noCache: true }));
    console.log(`${builder}: cold build of base's OS packages ${seconds.toFixed(1)} s`);
    return seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function engineVersion(): Promise<string> {
  return String((await execa('docker', ['version', '--format', '{{.Server.Version}}'])).stdout).trim();
}

function nxVersion(): string {
  return JSON.parse(readFileSync(join(__dirname, '../node_modules/nx/package.json'), 'utf8')).version;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
