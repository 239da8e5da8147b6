// What a failed client call means, from what the client printed: pure functions, so that each
// message a user gets is tested on the engine's own words (failures.test.ts).
import { BuildError, EngineError, RegistryError } from './engine';

const LOST_ENGINE = /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running|docker\.sock: connect/i;
// The connection to the engine broke while a build was running.
const LOST_DURING_BUILD = /unexpected EOF|error reading from server|connection reset by peer|broken pipe|Cannot connect to the Docker daemon|error during connect/i;
// The daemon could not reach a registry (down, wrong address, no network).
const REGISTRY_UNREACHABLE = /Error response from daemon: (Get|Head|Put|Post) "?https?:\/\/([^/"]+)[^"]*"?: (.*)$/m;
const NO_SUCH_IMAGE = /no such image/i;
const PUSHED_DIGEST = /digest: (sha256:[0-9a-f]{64})/;

export function noEngineMessage(client: string, detail: string): string {
  const host = process.env.DOCKER_HOST ? ` at DOCKER_HOST=${process.env.DOCKER_HOST}` : '';
  return [
    `No Docker engine answers${host} (${detail.trim().split('\n')[0]}).`,
    `Start one: on Debian run "bash tools/setup.sh" (installs docker.io and starts dockerd), elsewhere start Docker;`,
    `then check with "${client} version".`,
  ].join('\n');
}

export function isLostEngine(output: string): boolean {
  return LOST_ENGINE.test(output);
}

/** The engine's "no such image": an answer, not a failure, for inspect and untag. */
export function isNoSuchImage(stderr: string): boolean {
  return NO_SUCH_IMAGE.test(stderr);
}

/** The error a failed client call `what` stands for. */
export function clientFailure(client: string, what: string, stderr: string): EngineError | RegistryError {
  if (LOST_ENGINE.test(stderr)) return new EngineError(noEngineMessage(client, stderr));
  const registry = REGISTRY_UNREACHABLE.exec(stderr);
  if (registry) {
    return new RegistryError(`${client} ${what}: the registry ${registry[2]} cannot be reached (${registry[3].trim()}). Check that it is up and that the address in images/versions.json is right.`);
  }
  return new EngineError(`${client} ${what} failed: ${stderr.trim()}`);
}

/** The manifest digest in a push's output, if the push got that far. */
export function pushedDigest(output: string): string | null {
  return PUSHED_DIGEST.exec(output)?.[1] ?? null;
}

/** The classic builder's error for a failed build, from the last lines it printed and its last step. */
export function buildFailure(client: string, tail: string[], lastStep: string | null, exitCode: number | undefined): EngineError | BuildError {
  const output = tail.join('\n');
  // No step started: the client never reached an engine.
  if (lastStep === null && LOST_ENGINE.test(output)) return new EngineError(noEngineMessage(client, tail.find((l) => LOST_ENGINE.test(l)) ?? output));
  if (LOST_DURING_BUILD.test(output)) {
    return new EngineError(`The Docker engine stopped answering during the build${lastStep ? ` (at "${lastStep}")` : ''}: ${tail.find((l) => LOST_DURING_BUILD.test(l))?.trim()}. Start it again (bash tools/setup.sh) and rerun.`);
  }
  const reason =
    tail.find((l) => /no space left on device/i.test(l)) ??
    tail.filter((l) => /returned a non-zero code|error|failed/i.test(l)).pop() ??
    tail[tail.length - 1] ??
    `exit code ${exitCode}`;
  return new BuildError(reason, lastStep);
}

/** BuildKit's step lines in plain progress ("#7 [stage-1 3/3] RUN ..."), not its internal ones. */
export const BUILDKIT_STEP = /^#\d+ \[(?!internal\]|auth\])[^\]]+\] /;
const BUILDKIT_STEP_ERROR = /^#(\d+) ERROR: /;
const BUILDKIT_SOLVE_ERROR = /^ERROR: (?:failed to solve: )?(.*)$/;

/**
 * BuildKit's error for a failed build, from the last lines it printed and its step lines: the
 * step that failed (with parallel stages, not always the last one started), what the step last
 * printed, and BuildKit's reason.
 */
export function buildKitFailure(client: string, tail: string[], steps: string[], exitCode: number | undefined): EngineError | BuildError {
  const output = tail.join('\n');
  if (steps.length === 0 && LOST_ENGINE.test(output)) return new EngineError(noEngineMessage(client, tail.find((l) => LOST_ENGINE.test(l)) ?? output));
  const failed = tail.map((l) => BUILDKIT_STEP_ERROR.exec(l)).find((m) => m);
  const step = (failed && steps.find((s) => s.startsWith(`#${failed[1]} [`))) ?? steps.at(-1) ?? null;
  if (!failed && LOST_DURING_BUILD.test(output)) {
    return new EngineError(`The Docker engine stopped answering during the build${step ? ` (at "${step}")` : ''}: ${tail.find((l) => LOST_DURING_BUILD.test(l))?.replace(BUILDKIT_SOLVE_ERROR, '$1').trim()}. Start it again (bash tools/setup.sh) and rerun.`);
  }
  const reason = tail.map((l) => BUILDKIT_SOLVE_ERROR.exec(l)).filter((m) => m).pop()?.[1] ?? tail.at(-1) ?? `exit code ${exitCode}`;
  // What the failing step printed last: a script's own message says more than its exit code.
  const printed = failed ? tail.filter((l) => l.startsWith(`#${failed[1]} `) && !BUILDKIT_STEP_ERROR.test(l) && l !== step).map((l) => l.replace(/^#\d+ [0-9.]+ /, '')) : [];
  const full = printed.find((l) => /no space left on device/i.test(l));
  if (full) return new BuildError(full, step);
  return new BuildError(printed.length ? `${reason}\nthe step's last output:\n${printed.slice(-5).join('\n')}` : reason, step);
}
