// What the executors share: an engine that is known to answer, and failure reports that
// name the stage, the step and what to do.
import { loadConfig } from '../config';
import { BuildError, Engine } from '../engine';

export async function engineFor(workspaceRoot: string): Promise<Engine> {
  const { docker } = loadConfig(workspaceRoot);
  const engine = new Engine(docker.client, docker.network);
  await engine.serverVersion();
  return engine;
}

export function reportFailure(project: string, error: Error): void {
  const lines = [`\n✖ ${project}: ${error instanceof BuildError ? 'the image build failed' : 'failed'}`];
  if (error instanceof BuildError && error.step) lines.push(`  failing Dockerfile step: ${error.step}`);
  lines.push(`  ${error.message.split('\n').join('\n  ')}`);
  lines.push(`  No record was written and no tag was moved; nothing from this run of ${project} is cached.`);
  console.error(lines.join('\n'));
}
