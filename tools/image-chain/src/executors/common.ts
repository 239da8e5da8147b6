// What the executors share: the engine, and failure reports that
// name the stage, the step and what to do.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type ChainConfig } from '../config';
import { BuildError, Engine } from '../engine';
import { tagImage } from '../presence';
import { tryReadRecord } from '../record';

/** The engine the versions file names. Its first call says so if it does not answer (no separate check: ~50 ms a task). */
export function engineFor({ docker }: ChainConfig): Engine {
  return new Engine(docker.client, docker.network);
}

const NOTHING_KEPT = 'No record was written and no tag was moved; nothing from this run of the stage is cached.';

export function reportFailure(project: string, error: Error, note = NOTHING_KEPT): void {
  const lines = [`\n✖ ${project}: ${error instanceof BuildError ? 'the image build failed' : 'failed'}`];
  if (error instanceof BuildError && error.step) lines.push(`  failing Dockerfile step: ${error.step}`);
  lines.push(`  ${error.message.split('\n').join('\n  ')}`);
  if (/no space left on device/i.test(error.message)) {
    lines.push("  The engine's disk is full: free space (docker system prune, docker builder prune) and run again.");
  }
  lines.push(`  ${note}`);
  console.error(lines.join('\n'));
}

/** The build arg through which Dockerfiles may receive extra CA certificates for pip. */
export const BUILD_CA_ARG = 'BUILD_CA_CERT_B64';
const HOST_EXTRA_CAS = '/usr/local/share/ca-certificates';

/**
 * Extra CA certificates the host trusts (e.g. a TLS-intercepting egress proxy), base64 PEM, for
 * builds whose RUN steps fetch over HTTPS. IMAGE_CHAIN_BUILD_CA names a PEM file, or "none".
 * Machine-specific, so never part of a cache key; a public certificate, never a secret.
 */
export function hostExtraCas(): string | null {
  const setting = process.env.IMAGE_CHAIN_BUILD_CA;
  if (setting === 'none') return null;
  let pem = '';
  if (setting) pem = readFileSync(setting, 'utf8');
  else if (existsSync(HOST_EXTRA_CAS)) {
    for (const f of readdirSync(HOST_EXTRA_CAS).filter((f) => f.endsWith('.crt')).sort()) pem += readFileSync(join(HOST_EXTRA_CAS, f), 'utf8');
  }
  return pem ? Buffer.from(pem).toString('base64') : null;
}

/**
 * Runs a build that SIGINT or SIGTERM can stop cleanly: the signal aborts the engine call, the
 * executor's own clean-up runs (no record, temporary context removed), then the process ends.
 */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (controller.signal.aborted) process.exitCode = 130;
  }
}

/** After waiting for a concurrent run: if it built these very inputs, use its image. */
export async function reuseConcurrentBuild(root: string, project: string): Promise<boolean> {
  const record = tryReadRecord(root, project);
  if (!record || record.inputHash !== process.env.NX_TASK_HASH) return false;
  const engine = engineFor(loadConfig(root));
  const info = (await engine.inspect([record.image])).get(record.image);
  if (!info) return false;
  await tagImage(engine, info, record.tags);
  console.log(`${project}: built by a concurrent run with the same inputs: ${record.image}`);
  return true;
}
