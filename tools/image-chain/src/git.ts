// Source revision for the OCI revision label: the last commit that touched a stage's inputs,
// not HEAD, so an unrelated commit never changes an image (and so never its ID).
import { execa } from 'execa';

export async function lastCommitTouching(workspaceRoot: string, paths: string[]): Promise<string> {
  const result = await execa('git', ['log', '-1', '--format=%H', '--', ...paths], { cwd: workspaceRoot, reject: false });
  const sha = String(result.stdout ?? '').trim();
  return result.exitCode === 0 && sha ? sha : 'unknown';
}
