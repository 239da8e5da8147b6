import { describe, expect, it } from 'vitest';
import { checkDockerfile } from './dockerfile';

describe('a stage Dockerfile', () => {
  it('takes its base from the chain; a Dockerfile that mounts nothing needs no secret', () => {
    const facts = checkDockerfile('ARG UPSTREAM\nFROM ${UPSTREAM}\nARG SKLEARN_VERSION\nRUN echo $SKLEARN_VERSION\n', 'images/base/Dockerfile');
    expect([...facts.secrets]).toEqual([]);
  });
  it('lists the build secrets its RUN steps mount (an id, or the target\'s file name)', () => {
    const text = 'ARG UPSTREAM\nFROM ${UPSTREAM}\nRUN --mount=type=secret,id=build-ca pip install x\nRUN --mount=type=secret,target=/run/secrets/token --mount=type=cache,target=/root/.cache true\nRUN echo --mount=type=secret,id=no\n';
    expect([...checkDockerfile(text, 'f').secrets].sort()).toEqual(['build-ca', 'token']);
  });
  it('may use builder stages of its own', () => {
    expect(() => checkDockerfile('ARG UPSTREAM\nFROM ${UPSTREAM} AS build\nRUN make\nFROM build\n', 'f')).not.toThrow();
  });
  it('refuses a FROM that does not take the upstream, naming file and line', () => {
    expect(() => checkDockerfile('ARG UPSTREAM\nFROM ${UPSTREAM}\nFROM debian:bookworm\n', 'images/final/Dockerfile')).toThrow(
      /images\/final\/Dockerfile:3: "FROM debian:bookworm" does not take the upstream image from the chain/,
    );
  });
  it('refuses a Dockerfile without ARG UPSTREAM, or with a default for it', () => {
    expect(() => checkDockerfile('FROM debian:bookworm\n', 'f')).toThrow(/must declare "ARG UPSTREAM"/);
    expect(() => checkDockerfile('ARG UPSTREAM=debian:bookworm\nFROM ${UPSTREAM}\n', 'f')).toThrow(/must declare "ARG UPSTREAM" \(without a default\)/);
  });
});
