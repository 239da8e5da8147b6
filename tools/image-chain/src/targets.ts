// The names of the targets the plugin infers (others refer to them: task hooks, nested rebuilds).
export const DOCKER_BUILD = 'docker-build';
export const CONTAINER_TEST = 'container-test';
export const DOCKER_PUSH = 'docker-push';
