// Runs in each test file of a project before its tests: the engine global-setup.ts started for
// the project (if any) becomes the one every docker and nx call of the file talks to.
import { inject } from 'vitest';

const host = inject('dockerHost');
if (host) process.env.DOCKER_HOST = host;
