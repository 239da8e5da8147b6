import { describe, expect, it } from 'vitest';
import { classicBuildArgs } from './classic';

describe('classicBuildArgs', () => {
  const options = { dockerfile: '/w/ctx/Dockerfile', context: '/w/ctx', buildArgs: { UPSTREAM: 'sha256:abc', SKLEARN_VERSION: '1.4.2' }, network: 'host', platform: 'linux/amd64', iidFile: '/w/iid' };

  it('builds with the classic builder, untagged, its ID in the iid file, FROM the upstream by ID', () => {
    const { args, env } = classicBuildArgs(options);
    expect(env).toEqual({ DOCKER_BUILDKIT: '0' });
    expect(args).toEqual([
      'build', '--force-rm', '--iidfile', '/w/iid', '-f', '/w/ctx/Dockerfile', '--network', 'host', '--platform', 'linux/amd64',
      '--build-arg', 'UPSTREAM=sha256:abc', '--build-arg', 'SKLEARN_VERSION=1.4.2', '/w/ctx',
    ]);
    expect(args).not.toContain('-t');
  });

  it('the engine\'s default network and platform are left to it', () => {
    const { args } = classicBuildArgs({ ...options, network: 'default', platform: undefined });
    expect(args).not.toContain('--network');
    expect(args).not.toContain('--platform');
  });
});
