// Builds one image stage FROM the exact upstream image ID and under its tags, verifies it, then records it.
import type { ExecutorContext } from '@nx/devkit';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { BuildError, labelInstruction } from '../engine';
import { lastCommitTouching } from '../git';
import type { DockerBuildOptions } from '../model';
import { removeRecord, writeRecord } from '../record';
import { UPSTREAM_ARG } from '../stage';
import { ensureUpstream, isBuiltFrom } from '../presence';
import { loadConfig, pushRegistryOf } from '../config';
import { checkDockerfile } from '../dockerfile';
import { pushByDigest } from '../publish';
import { BUILD_CA_ARG, engineFor, hostExtraCas, interruptible, reportFailure, reuseConcurrentBuild } from './common';
import { withProjectLock } from '../lock';
import { checkRequirementsLock } from '../requirements-lock';

export default async function dockerBuild(options: DockerBuildOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName!;
  return withProjectLock(context.root, project, () => interruptible((signal) => build(options, context, signal)));
}

async function build(options: DockerBuildOptions, context: ExecutorContext, signal: AbortSignal): Promise<{ success: boolean }> {
  const project = context.projectName!;
  const root = context.root;
  if (await reuseConcurrentBuild(root, project)) return { success: true };
  removeRecord(root, project); // a failed build must leave no record behind
  let tagged = false; // a verified image under its tags, not yet recorded
  const staged = mkdtempSync(join(tmpdir(), `image-chain-${project}-`));
  try {
    const config = loadConfig(root);
    const engine = engineFor(config);
    // The engine and git answer while the Dockerfile and lock are checked and the context is
    // staged (each call is a process of its own); both only read.
    const upstreamReady = ensureUpstream(root, engine, options.upstream!, project);
    // The artifacts' sources are inputs too (the wheel's package folder).
    const artifactRoots = options.artifacts.map((a) => context.projectsConfigurations.projects[a.project]?.root).filter((r): r is string => !!r);
    const revisionReady = lastCommitTouching(root, [...options.revisionPaths, ...artifactRoots]);
    upstreamReady.catch(() => {}); // awaited below; an error before then must not leave it unhandled
    revisionReady.catch(() => {});

    // Refuse a Dockerfile that does not build FROM the chain before any build starts.
    const facts = checkDockerfile(readFileSync(join(root, options.dockerfile), 'utf8'), options.dockerfile);
    const extraCas = facts.args.has(BUILD_CA_ARG) ? hostExtraCas() : null;
    // A lock that does not hold exactly the stage's pins would install other versions than the
    // versions file says (or fail on hashes of the wrong files): refuse it before building.
    if (options.requirementsLock) checkRequirementsLock(root, options.requirementsLock);

    // The build context: the stage folder, this line's fragments over it, then artifacts.
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

    const iidFile = join(staged, '.image-chain.iid');
    const dockerfile = join(staged, options.dockerfile.slice(options.context.length + 1));
    appendFileSync(dockerfile, `\n${labelInstruction({ ...options.labels, 'org.opencontainers.image.revision': revision })}\n`);
    console.log(`Building ${project} FROM ${options.upstream} (${upstream.image.slice(0, 19)})`);
    await engine.build({
      dockerfile,
      context: staged,
      buildArgs: { [UPSTREAM_ARG]: upstream.image, ...options.buildArgs, ...(extraCas ? { [BUILD_CA_ARG]: extraCas } : {}) },
      network: engine.network,
      platform: options.platform === undefined ? undefined : options.platform,
      iidFile,
      tags: options.tags,
      signal,
    });
    const id = readFileSync(iidFile, 'utf8').trim();
    const built = (await engine.inspect([id])).get(id);
    if (!built || !isBuiltFrom(built, upstream.info)) {
      for (const tag of options.tags) await engine.removeTag(tag);
      throw new Error(`${project}: the built image ${id} does not extend ${upstream.project} (${upstream.image}); its tags were taken off it. Its Dockerfile must start with "ARG ${UPSTREAM_ARG}" and "FROM \${${UPSTREAM_ARG}}"`);
    }
    tagged = true;
    // The record comes last: no run reports the image as built before it is verified.
    // With a registry, the image travels by digest: another machine's cache hit pulls it.
    const registry = pushRegistryOf(config);
    const pushed = registry ? [await pushByDigest(engine, registry, id, options.tags[0])] : [];
    writeRecord(root, {
      schema: 1, project, stage: options.stage, line: options.line, image: id, tags: options.tags,
      upstream: { project: upstream.project, image: upstream.image }, platform: options.platform,
      inputHash: process.env.NX_TASK_HASH ?? 'unknown', pushed,
    });
    console.log(`${project}: ${id} tagged ${options.tags.join(', ')}`);
    return { success: true };
  } catch (e) {
    removeRecord(root, project);
    reportFailure(project, e instanceof BuildError ? e : (e as Error), tagged
      ? 'The image was built, verified and tagged, but no record was written: nothing from this run of the stage is cached.'
      : undefined);
    return { success: false };
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}
