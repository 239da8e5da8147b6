// What the engine printed, as Docker 20.10's client and daemon print it on this machine kind,
// and the message each becomes.
import { describe, expect, it } from 'vitest';
import { BuildError, EngineError, RegistryError } from './engine';
import { buildFailure, clientFailure, isNoSuchImage, pushedDigest } from './failures';

const E64 = 'e'.repeat(64);
const NO_DAEMON = 'Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?';
const REGISTRY_DOWN = 'Error response from daemon: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused';
const NO_SUCH_IMAGE = `Error response from daemon: no such image: sha256:${E64}: No such image: sha256:${E64}`;

describe('clientFailure', () => {
  it('a daemon that does not answer: how to start one', () => {
    const error = clientFailure('docker', 'image inspect', NO_DAEMON);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toMatch(/^No Docker engine answers/);
    expect(error.message).toContain('bash tools/setup.sh');
    expect(error.message).toContain('"docker version"');
  });

  it('a registry that cannot be reached: its address and the cause', () => {
    const error = clientFailure('docker', 'pull 127.0.0.1:5999/x@sha256:…', REGISTRY_DOWN);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toContain('the registry 127.0.0.1:5999 cannot be reached (dial tcp 127.0.0.1:5999: connect: connection refused)');
  });

  it('anything else: the call and what the engine said', () => {
    const error = clientFailure('docker', 'image tag busybox:nope x:y', 'Error response from daemon: No such image: busybox:nope');
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe('docker image tag busybox:nope x:y failed: Error response from daemon: No such image: busybox:nope');
  });
});

describe('the engine\'s own answers', () => {
  it('"no such image" is an answer for inspect and untag, in either case', () => {
    expect(isNoSuchImage(NO_SUCH_IMAGE)).toBe(true);
    expect(isNoSuchImage('Error: No such image: x')).toBe(true);
    expect(isNoSuchImage(NO_DAEMON)).toBe(false);
  });

  it('a push\'s digest line', () => {
    expect(pushedDigest(`extension: digest: sha256:${E64} size: 1780`)).toBe(`sha256:${E64}`);
    expect(pushedDigest('An image does not exist locally with the tag: 127.0.0.1:5999/x')).toBeNull();
  });
});

describe('buildFailure', () => {
  it('a failing RUN step: the step and the engine\'s reason', () => {
    const tail = ['Step 2/2 : RUN exit 3', ' ---> Running in f84114bbc9bf', "The command '/bin/sh -c exit 3' returned a non-zero code: 3"];
    const error = buildFailure('docker', tail, 'Step 2/2 : RUN exit 3', 1);
    expect(error).toBeInstanceOf(BuildError);
    expect(error.message).toBe("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect((error as BuildError).step).toBe('Step 2/2 : RUN exit 3');
  });

  it('a full disk: that line, whatever follows', () => {
    const tail = ['Step 3/4 : RUN dd if=/dev/zero of=/big bs=1M count=400', 'dd: error writing \'/big\': No space left on device', "The command '/bin/sh -c dd …' returned a non-zero code: 1"];
    expect(buildFailure('docker', tail, tail[0], 1).message).toBe("dd: error writing '/big': No space left on device");
  });

  it('the engine lost during the build: an engine error naming the step', () => {
    const tail = ['Step 3/3 : RUN sleep 60', ' ---> Running in 0b1', 'error reading from server: EOF'];
    const error = buildFailure('docker', tail, 'Step 3/3 : RUN sleep 60', 1);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe('The Docker engine stopped answering during the build (at "Step 3/3 : RUN sleep 60"): error reading from server: EOF. Start it again (bash tools/setup.sh) and rerun.');
  });

  it('no engine at all', () => {
    expect(buildFailure('docker', [NO_DAEMON], null, 1).message).toMatch(/^No Docker engine answers/);
  });

  it('no output: the exit code', () => {
    expect(buildFailure('docker', [], null, 7).message).toBe('exit code 7');
  });
});
