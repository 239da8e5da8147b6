// A failed task's report: the project, the failing step, what happened and what to do.
import { BuildError } from './engines/engine';

const NOTHING_KEPT = 'No record was written and no tag was moved; nothing from this run of the stage is cached.';

export function reportFailure(project: string, error: Error, note = NOTHING_KEPT): void {
  const lines = [`\n✖ ${project}: ${error instanceof BuildError ? 'the image build failed' : 'failed'}`];
  if (error instanceof BuildError && error.step) lines.push(`  failing Dockerfile step: ${error.step}`);
  lines.push(`  ${error.message.split('\n').join('\n  ')}`);
  if (/no space left on device/i.test(error.message)) {
    lines.push("  The engine's disk is full: free space (docker system prune, docker builder prune) and run again.");
  }
  lines.push(`  ${note}`);
  console.error(lines.join('\n'));
}
