// Runs Python modules in a project's folder (pytest, ruff), with the python3 on the PATH the
// user runs Nx with: each entry of `runs` is one `python3 -m <args...>`, in order.
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { join } from 'node:path';

import type { PythonModuleOptions } from '../options';

export default async function pythonModule(options: PythonModuleOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const root = context.projectsConfigurations.projects[context.projectName!].root;
  const python = options.python;
  for (const args of options.runs) {
    const result = await execa(python, ['-m', ...args], { cwd: join(context.root, root), stdout: 'inherit', stderr: 'inherit', reject: false });
    if (result.exitCode !== 0) {
      const why = (result as { code?: string }).code === 'ENOENT'
        ? `: ${python} is not installed; run "bash tools/setup.sh"`
        : result.signal
          ? `: it was stopped by ${result.signal}; see above`
          : ` (exit ${result.exitCode}); see above (a missing module: run "bash tools/setup.sh")`;
      console.error(`\n✖ ${context.projectName}: "${python} -m ${args.join(' ')}" failed${why}.`);
      return { success: false };
    }
  }
  return { success: true };
}
