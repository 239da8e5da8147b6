// What the engine printed, as Docker 20.10's client and daemon print it on this machine kind,
// and the message each becomes.
import { describe, expect, it } from 'vitest';
import { BuildError, EngineError, RegistryError } from './engine';
import { buildFailure, buildKitFailure, clientFailure, isNoSuchImage, pushedDigest } from './failures';

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

// BuildKit's plain progress, as buildx 0.13.1 printed it on Docker 26.1.5 here.
describe('buildKitFailure', () => {
  const STEPS = ['#4 [one 1/2] FROM docker.io/library/image-chain-upstream:t', '#5 [one 2/2] RUN echo one', '#6 [stage-1 2/3] COPY --from=one /bin/sh /x', '#7 [stage-1 3/3] RUN echo "ERROR: expected something" >&2; exit 3'];

  it('a failing RUN step: that step, BuildKit\'s reason and what the step printed', () => {
    const tail = [
      '#7 [stage-1 3/3] RUN echo "ERROR: expected something" >&2; exit 3',
      '#7 0.052 ERROR: expected something',
      '#7 ERROR: process "/bin/sh -c echo \\"ERROR: expected something\\" >&2; exit 3" did not complete successfully: exit code: 3',
      '------', ' > [stage-1 3/3] RUN echo "ERROR: expected something" >&2; exit 3:', '0.052 ERROR: expected something', '------',
      'Df1:6', '--------------------', '   6 | >>> RUN echo "ERROR: expected something" >&2; exit 3', '--------------------',
      'ERROR: failed to solve: process "/bin/sh -c echo \\"ERROR: expected something\\" >&2; exit 3" did not complete successfully: exit code: 3',
    ];
    const error = buildKitFailure('docker', tail, STEPS, 1);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).step).toBe(STEPS[3]);
    expect(error.message).toBe('process "/bin/sh -c echo \\"ERROR: expected something\\" >&2; exit 3" did not complete successfully: exit code: 3\nthe step\'s last output:\nERROR: expected something');
  });

  it('the failing step is named even when a parallel stage started later', () => {
    const tail = ['#5 0.1 boom', '#5 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1', '#6 [stage-1 2/3] COPY x /x', 'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1'];
    expect((buildKitFailure('docker', tail, STEPS, 1) as BuildError).step).toBe(STEPS[1]);
  });

  it('a full disk: that line', () => {
    const tail = [
      '#5 [stage-0 2/2] RUN --mount=type=tmpfs,size=1m,target=/t dd if=/dev/zero of=/t/x bs=1k count=4000',
      "#5 0.047 dd: error writing '/t/x': No space left on device", '#5 0.047 1025+0 records in', '#5 0.047 1024+0 records out',
      '#5 ERROR: process "/bin/sh -c dd if=/dev/zero of=/t/x bs=1k count=4000" did not complete successfully: exit code: 1',
      'ERROR: failed to solve: process "/bin/sh -c dd if=/dev/zero of=/t/x bs=1k count=4000" did not complete successfully: exit code: 1',
    ];
    expect(buildKitFailure('docker', tail, [tail[0]], 1).message).toBe("dd: error writing '/t/x': No space left on device");
  });

  it('the engine lost during the build: an engine error naming the step', () => {
    const tail = ['#5 [2/2] RUN sleep 30', 'ERROR: failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF'];
    const error = buildKitFailure('docker', tail, ['#4 [1/2] FROM docker.io/library/x:t', '#5 [2/2] RUN sleep 30'], 1);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toBe('The Docker engine stopped answering during the build (at "#5 [2/2] RUN sleep 30"): failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF. Start it again (bash tools/setup.sh) and rerun.');
  });

  it('no engine at all', () => {
    const error = buildKitFailure('docker', ['ERROR: Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?'], [], 1);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.message).toMatch(/^No Docker engine answers/);
  });
});
