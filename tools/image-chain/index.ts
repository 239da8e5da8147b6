export { createNodes, createDependencies } from './src/plugin';
export { preTasksExecution, postTasksExecution } from './src/hooks';
