// The tag scheme: pure functions from the versions file to image names.
//   sklearn-base:1.4-2-cpu-py3, preprod-sklearn:1.4-2-cpu-py3,
//   preprod-sklearn-extension:2.5.0-2-cpu-py3 (single-repository form: extension-2.5.0-2-cpu-py3)
import { ConfigError, type ChainConfig } from './config';
import { render, type Variables } from './template';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export class TagError extends ConfigError {}

/** "repository:tag" of a stage, validated against what Docker accepts. */
export function imageTag(config: ChainConfig, stage: string, vars: Variables, configFile: string): string {
  const name = config.images[stage];
  if (!name) {
    throw new TagError(`${configFile}: images.${stage} is missing: add {"repository": ..., "tag": ...} for stage "${stage}"`);
  }
  const tag = render(name.tag, vars, `${configFile}: images.${stage}.tag`);
  if (!TAG.test(tag)) {
    throw new TagError(`${configFile}: images.${stage}.tag renders to "${tag}", which Docker rejects as a tag (allowed: letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  return `${name.repository}:${tag}`;
}

/** The single-repository form: the stage name becomes a tag prefix ("extension-2.5.0-2-cpu-py3"). */
export function singleRepositoryTag(stage: string, fullTag: string): string {
  return `${stage}-${fullTag.slice(fullTag.lastIndexOf(':') + 1)}`;
}

/** Project names: bare stage names build the default line, others carry the line ("base-1.2-1"). */
export function projectName(stage: string, line: string | null, defaultLine: string): string {
  return line === null || line === defaultLine ? stage : `${stage}-${line}`;
}
