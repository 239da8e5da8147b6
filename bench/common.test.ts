import { describe, expect, it } from 'vitest';
import { dockerBuildsRan, tasksOf } from './common';

// What Nx 23 prints off a terminal (static-failures-only): a line for each task from a cache or
// run by the way, the full output of the task asked for.
const RUN = `
 NX   Running target docker-build for project extension and 4 tasks it depends on:

✔  nx run os:docker-build  [local cache]
✔  nx run base:docker-build  [remote cache]
✔  nx run sagemaker-sklearn-container:build
✔  nx run final:docker-build

> nx run extension:docker-build

> node tools/image-chain/run.js docker-build images/extension/lines/1.4-2

Step 1/31 : ARG UPSTREAM
`;

describe('reading an nx run', () => {
  it('finds every task once, and which came from a cache', () => {
    expect(tasksOf(RUN)).toEqual([
      { task: 'os:docker-build', cached: true, remote: false },
      { task: 'base:docker-build', cached: true, remote: true },
      { task: 'sagemaker-sklearn-container:build', cached: false, remote: false },
      { task: 'final:docker-build', cached: false, remote: false },
      { task: 'extension:docker-build', cached: false, remote: false },
    ]);
    expect(dockerBuildsRan(RUN)).toBe(2);
  });

  it('reads the full-output form of a task from the cache', () => {
    expect(tasksOf('> nx run extension:docker-build  [remote cache]\n\nStep 1/31 : ARG UPSTREAM\n')).toEqual([
      { task: 'extension:docker-build', cached: true, remote: true },
    ]);
  });
});
