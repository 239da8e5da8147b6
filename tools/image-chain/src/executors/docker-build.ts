// Builds one image stage FROM the exact upstream image ID (see lifecycle.ts for the steps around it).
import type { ExecutorContext } from '@nx/devkit';
import { appendFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { checkDockerfile } from '../dockerfile';
import { labelInstruction } from '../engines/engine';
import { lastCommitTouching } from '../git';
import { runImageStage, type MadeImage, type StageRun } from '../lifecycle';
import type { DockerBuildOptions } from '../options';
import { presentImage } from '../presence';
import { checkRequirementsLock } from '../requirements-lock';
import { BUILD_CA_SECRET, hostExtraCas } from '../build-ca';

export default async function dockerBuild(options: DockerBuildOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runImageStage(options, context, (run) => build(options, run));
}

async function build(options: DockerBuildOptions, { project, root, engine, work, signal, projectRoot }: StageRun): Promise<MadeImage> {
  // The engine and git answer while the Dockerfile and lock are checked and the context is
  // staged (each call is a process of its own); both only read.
  const upstreamReady = presentImage(root, engine, options.upstream);
  // The artifacts' sources are inputs too (the wheel's package folder).
  const artifactRoots = options.artifacts.map((a) => projectRoot(a.project)).filter((r): r is string => !!r);
  const revisionReady = lastCommitTouching(root, [...options.revisionPaths, ...artifactRoots]);
  upstreamReady.catch(() => {}); // awaited below; an error before then must not leave it unhandled
  revisionReady.catch(() => {});

  // Refuse a Dockerfile that does not build FROM the chain before any build starts.
  const facts = checkDockerfile(readFileSync(join(root, options.dockerfile), 'utf8'), options.dockerfile);
  const extraCas = facts.secrets.has(BUILD_CA_SECRET) ? hostExtraCas() : null;
  // A lock that does not hold exactly the stage's pins would install other versions than the
  // versions file says (or fail on hashes of the wrong files): refuse it before building.
  if (options.requirementsLock) checkRequirementsLock(root, options.requirementsLock);

  // The build context: the stage folder, this line's fragments over it, then artifacts.
  const staged = join(work, 'context');
  cpSync(join(root, options.context), staged, { recursive: true, filter: (src) => !src.startsWith(join(root, options.context, 'lines')) });
  if (options.lineDir && existsSync(join(root, options.lineDir))) cpSync(join(root, options.lineDir), staged, { recursive: true });
  for (const artifact of options.artifacts) {
    const files = globSync(artifact.files, { cwd: root });
    if (files.length === 0) {
      throw new Error(`${project}: no files match ${artifact.files} (output of ${artifact.project}:${artifact.target}); run "nx run ${artifact.project}:${artifact.target}" and check its outputs`);
    }
    for (const file of files) cpSync(join(root, file), join(staged, artifact.into, file.split('/').pop()!));
  }
  const [upstream, revision] = await Promise.all([upstreamReady, revisionReady]);

  const dockerfile = join(staged, options.dockerfile.slice(options.context.length + 1));
  appendFileSync(dockerfile, `\n${labelInstruction({ ...options.labels, 'org.opencontainers.image.revision': revision })}\n`);
  console.log(`Building ${project} FROM ${options.upstream} (${upstream.image.slice(0, 19)})`);
  // The certificates go in a file beside the context, never into it: the build mounts them as a secret.
  const secrets: Record<string, string> = {};
  if (extraCas) writeFileSync((secrets[BUILD_CA_SECRET] = join(work, `${BUILD_CA_SECRET}.pem`)), extraCas, { mode: 0o600 });
  const image = await engine.build({
    dockerfile,
    context: staged,
    upstream: upstream.image,
    buildArgs: options.buildArgs,
    network: engine.network,
    platform: options.platform,
    secrets,
    // A fresh build (new apt and security updates, say) gives a new ID, so what is built FROM it rebuilds too.
    noCache: process.env.IMAGE_CHAIN_NO_CACHE === 'true',
    signal,
  });
  return { image, upstream: { project: upstream.project, image: upstream.image, info: upstream.info } };
}
