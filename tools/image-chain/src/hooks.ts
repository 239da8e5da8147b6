// Task hooks: a cache hit of an image stage is a success only if the recorded image is in the
// engine, built FROM the recorded upstream.
// - Before a run: records left by earlier runs whose images are gone (docker rmi, prune) have
//   their cache entries retired, so those stages and everything FROM them rebuild in this run.
// - After a run: every image stage of the run is checked against the engine and restored where
//   it can be (pull by pushed digest); the sound ones get the tags the versions file gives now
//   (tagging.ts); what cannot be restored is rebuilt at once (its cache entry bypassed), then
//   the command runs again for the stages built FROM it.
// Tasks that use an image in the run make it present themselves (presence.ts).
import type { PostTasksExecution, PreTasksExecution } from '@nx/devkit';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeProblems, staleProjects } from './chain-checks';
import { ConfigError } from './config';
import type { ImageInfo } from './engines/engine';
import { engineFor } from './engines';
import type { ChainModel } from './model';
import { cacheDirectory, evictCacheEntry } from './nx-cache';
import { chainModel, type ImageChainPluginOptions } from './plugin';
import { missingImage, restoreRecorded } from './presence';
import { readRecord, RecordError, removeRecord, tryReadRecord, type ImageRecord } from './record';
import { applyTags, planTags, readLedger, sameLedger, writeLedger } from './tagging';
import { DOCKER_BUILD } from './targets';

const CACHED = new Set(['local-cache', 'local-cache-kept-existing', 'remote-cache']);
const REPAIR_ENV = 'IMAGE_CHAIN_REPAIR';

/** The chain model, or null where the versions file is broken (createNodes has said so). */
function modelOf(workspaceRoot: string, options: ImageChainPluginOptions | undefined): ChainModel | null {
  try {
    return chainModel(workspaceRoot, options);
  } catch (e) {
    if (e instanceof ConfigError) return null;
    throw e;
  }
}

const REMOTE_CACHE_ENV = 'NX_SELF_HOSTED_REMOTE_CACHE_SERVER';

/**
 * Nx fails the whole run when its self-hosted remote cache is down or refuses the token. Probe
 * it first; if it does not answer as it should, run with the local cache only, and say so.
 * (Nx carries a hook's changes to process.env over to the process that runs the tasks, also
 * when the hook runs in its daemon.)
 */
async function probeRemoteCache(): Promise<void> {
  const server = process.env[REMOTE_CACHE_ENV];
  if (!server) return;
  const token = process.env.NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN;
  let problem: string | null = null;
  try {
    const res = await fetch(`${server.replace(/\/$/, '')}/v1/cache/${'0'.repeat(64)}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (res.status !== 404 && res.status !== 200) problem = `it answered ${res.status} ${res.statusText}${res.status === 401 ? ' (check NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN)' : ''}`;
  } catch (e) {
    problem = `it cannot be reached (${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message ?? (e as Error).cause) : (e as Error).message})`;
  }
  if (problem) {
    console.warn(`Warning: the remote cache ${server} is not used for this run: ${problem}. Building with the local cache only.`);
    process.env[REMOTE_CACHE_ENV] = '';
  }
}

export const preTasksExecution: PreTasksExecution<ImageChainPluginOptions> = async (options, context) => {
  await probeRemoteCache();
  const dir = join(context.workspaceRoot, 'dist/images');
  if (!existsSync(dir)) return;
  const records = readdirSync(dir).map((p) => tryReadRecord(context.workspaceRoot, p)).filter((r): r is ImageRecord => r !== null);
  const model = records.length ? modelOf(context.workspaceRoot, options) : null;
  if (!model) return;
  const engine = engineFor(model.engine);
  let present: Map<string, ImageInfo>;
  try {
    present = await engine.inspect(records.map((r) => r.image));
  } catch {
    return; // no engine: tasks that need one say so themselves
  }
  const cacheDir = cacheDirectory(context.workspaceRoot, context.nxJsonConfiguration.cacheDirectory);
  for (const record of records) {
    if (present.has(record.image) || (record.pushed.length > 0 && (await restoreRecorded(engine, record)))) continue;
    evictCacheEntry(cacheDir, record.inputHash);
    removeRecord(context.workspaceRoot, record.project);
  }
};

export const postTasksExecution: PostTasksExecution<ImageChainPluginOptions> = async (options, context) => {
  const all = Object.values(context.taskResults);
  const results = all.filter((r) => r.task.target.target === DOCKER_BUILD && (r.status === 'success' || CACHED.has(r.status)));
  const model = results.length ? modelOf(context.workspaceRoot, options) : null;
  if (!model) return;
  const engine = engineFor(model.engine);
  const cacheDir = cacheDirectory(context.workspaceRoot, context.nxJsonConfiguration.cacheDirectory);

  const records = new Map<string, ImageRecord>();
  const missing = new Map<string, string>(); // project -> why
  for (const r of results) {
    try {
      records.set(r.task.target.project, readRecord(context.workspaceRoot, r.task.target.project));
    } catch (e) {
      if (!(e instanceof RecordError)) throw e;
      missing.set(r.task.target.project, e.message);
    }
  }
  const known = await engine.inspect([...records.values()].map((rec) => rec.image));
  for (const [project, record] of records) {
    const info = await restoreRecorded(engine, record, known);
    if (info) known.set(record.image, info);
    else missing.set(project, missingImage(record).message);
  }
  // Each stage must extend exactly the upstream image recorded in this run.
  const stale = staleProjects(records, known, new Set(missing.keys()));

  // The tags the versions file gives now, on every image that is as recorded.
  const tagsOf = new Map(model.images.map((i) => [i.name, i.tags]));
  const sound = [...records].filter(([project]) => !missing.has(project) && !stale.includes(project));
  const ledger = readLedger(context.workspaceRoot);
  const plan = planTags(
    sound.map(([project, record]) => ({ project, image: record.image, present: known.get(record.image)?.RepoTags ?? [], wanted: tagsOf.get(project) ?? [] })),
    new Set(model.images.flatMap((i) => i.tags)),
    ledger,
  );
  await applyTags(engine, plan);
  if (!sameLedger(ledger, plan.ledger)) writeLedger(context.workspaceRoot, plan.ledger);
  if (missing.size === 0 && stale.length === 0) return;

  for (const r of results) {
    if (!missing.has(r.task.target.project) && !stale.includes(r.task.target.project)) continue;
    if (r.task.hash) evictCacheEntry(cacheDir, r.task.hash);
    removeRecord(context.workspaceRoot, r.task.target.project);
  }
  const report = describeProblems(missing, stale);
  const failed = all.some((r) => r.status === 'failure' || r.status === 'skipped');
  if (process.env[REPAIR_ENV] || failed) {
    throw new Error(['Image stages of this run are not in the Docker engine as recorded:', ...report,
      'Their cache entries were removed: run the same command again to rebuild them (and the stages built FROM them).'].join('\n'));
  }
  console.warn(['Image stages of this run are not in the Docker engine as recorded; rebuilding them now:', ...report].join('\n'));
  const [node, nx, ...args] = context.argv;
  const env = { ...process.env, [REPAIR_ENV]: '1' };
  const rebuild = [...missing.keys(), ...stale];
  // Rebuild bypassing the cache (a shared cache may hold the same lost entry), then run the
  // original command: stages built FROM the rebuilt ones now have new keys and rebuild too.
  const first = await execa(node, [nx, 'run-many', '-t', DOCKER_BUILD, '-p', rebuild.join(','), '--skip-nx-cache', '--exclude-task-dependencies'], { env, stdio: 'inherit', reject: false, cwd: context.workspaceRoot });
  const second = first.exitCode === 0 ? await execa(node, [nx, ...args], { env, stdio: 'inherit', reject: false, cwd: context.workspaceRoot }) : first;
  if (second.exitCode !== 0) {
    throw new Error(`Rebuilding the missing images failed (see above). Fix the cause and run the command again.`);
  }
};
