import { describe, expect, it } from 'vitest';
import { BuildError } from './engine';
import { classicBuildArgs, classicDockerfile } from './classic';

describe('classicBuildArgs', () => {
  const options = { dockerfile: '/w/ctx/Dockerfile', context: '/w/ctx', upstream: 'sha256:abc', buildArgs: { SKLEARN_VERSION: '1.4.2' }, network: 'host', platform: 'linux/amd64' };

  it('builds with the classic builder, untagged, its ID in the iid file, FROM the upstream by ID', () => {
    const { args, env } = classicBuildArgs(options, '/w/iid');
    expect(env).toEqual({ DOCKER_BUILDKIT: '0' });
    expect(args).toEqual([
      'build', '--force-rm', '--iidfile', '/w/iid', '-f', '/w/ctx/Dockerfile', '--network', 'host', '--platform', 'linux/amd64',
      '--build-arg', 'UPSTREAM=sha256:abc', '--build-arg', 'SKLEARN_VERSION=1.4.2', '/w/ctx',
    ]);
    expect(args).not.toContain('-t');
  });

  it('the engine\'s default network and platform are left to it', () => {
    const { args } = classicBuildArgs({ ...options, network: 'default', platform: undefined }, '/w/iid');
    expect(args).not.toContain('--network');
    expect(args).not.toContain('--platform');
  });
});

describe('classicDockerfile', () => {
  it('drops cache and secret mounts, which leave a step\'s layer as it is', () => {
    const text = [
      'ARG UPSTREAM',
      'FROM ${UPSTREAM}',
      'RUN --mount=type=secret,id=build-ca --mount=type=cache,target=/root/.cache/pip set -eu; \\',
      '    pip-install-locked /lock',
      'RUN echo --mount=type=secret stays in a command',
    ].join('\n');
    expect(classicDockerfile(text, 'images/base/Dockerfile')).toBe([
      'ARG UPSTREAM',
      'FROM ${UPSTREAM}',
      'RUN set -eu; \\',
      '    pip-install-locked /lock',
      'RUN echo --mount=type=secret stays in a command',
    ].join('\n'));
  });

  it('a Dockerfile without mounts is left as it is', () => {
    const text = 'ARG UPSTREAM\nFROM ${UPSTREAM}\nRUN echo hi\n';
    expect(classicDockerfile(text, 'Dockerfile')).toBe(text);
  });

  it('refuses a mount that changes what the step sees, naming the line', () => {
    const text = 'ARG UPSTREAM\nFROM ${UPSTREAM} AS a\nFROM ${UPSTREAM}\nRUN --mount=from=a,target=/a cp /a/x /x\n';
    expect(() => classicDockerfile(text, 'images/final/Dockerfile')).toThrow(BuildError);
    expect(() => classicDockerfile(text, 'images/final/Dockerfile')).toThrow(/^images\/final\/Dockerfile:4: "RUN --mount=type=bind" needs BuildKit; set "docker.builder" to "buildkit"/);
  });
});
