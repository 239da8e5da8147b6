// Reads a stage's Dockerfile before anything is built: it must take its base image from the
// chain (ARG UPSTREAM, then FROM ${UPSTREAM}), so no stage can silently build FROM a mutable
// tag or a registry image of its own.
import { DockerfileParser, type Dockerfile, type Flag, type Instruction } from 'dockerfile-ast';
import { ConfigError } from './config';
import { UPSTREAM_ARG } from './stage';

export interface DockerfileFacts {
  /** The ids of the build secrets its RUN steps mount (RUN --mount=type=secret,id=...). */
  secrets: Set<string>;
}

function where(file: string, instruction: Instruction): string {
  return `${file}:${instruction.getRange().start.line + 1}`;
}

/** One RUN --mount flag: its type (BuildKit's default, bind, when none is given), its id, where it stands. */
export interface RunMount {
  type: string;
  /** A secret's id (BuildKit's default: the target's file name). */
  id: string | null;
  range: ReturnType<Flag['getRange']>;
}

export function runMounts(dockerfile: Dockerfile): RunMount[] {
  const mounts: RunMount[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() !== 'RUN') continue;
    for (const flag of (instruction as unknown as { getFlags(): Flag[] }).getFlags()) {
      if (flag.getName() !== 'mount') continue;
      const id = flag.getOption('id')?.getValue() ?? flag.getOption('target')?.getValue()?.split('/').pop() ?? null;
      mounts.push({ type: flag.getOption('type')?.getValue() ?? 'bind', id, range: flag.getRange() });
    }
  }
  return mounts;
}

export function checkDockerfile(text: string, file: string): DockerfileFacts {
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  if (froms.length === 0) throw new ConfigError(`${file}: has no FROM instruction; start it with "ARG ${UPSTREAM_ARG}" and "FROM \${${UPSTREAM_ARG}}"`);
  const declared = dockerfile.getInitialARGs().some((a) => a.getProperty()?.getName() === UPSTREAM_ARG && a.getProperty()?.getValue() === null);
  if (!declared) {
    throw new ConfigError(`${file}: must declare "ARG ${UPSTREAM_ARG}" (without a default) before its first FROM: the chain passes the upstream image ID through it`);
  }
  // Multi-stage builds may name earlier stages; every other FROM must be the upstream itself.
  const stageNames = new Set<string>();
  let usesUpstream = false;
  for (const from of froms) {
    const image = from.getImage() ?? '';
    if (image === `\${${UPSTREAM_ARG}}` || image === `$${UPSTREAM_ARG}`) usesUpstream = true;
    else if (!stageNames.has(image.toLowerCase())) {
      throw new ConfigError(`${where(file, from)}: "FROM ${image}" does not take the upstream image from the chain; use "FROM \${${UPSTREAM_ARG}}" (or an earlier stage of this Dockerfile)`);
    }
    const alias = from.getBuildStage();
    if (alias) stageNames.add(alias.toLowerCase());
  }
  if (!usesUpstream) throw new ConfigError(`${file}: no FROM uses \${${UPSTREAM_ARG}}`);
  return { secrets: new Set(runMounts(dockerfile).filter((m) => m.type === 'secret' && m.id).map((m) => m.id!)) };
}
