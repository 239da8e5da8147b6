// Runs a stage's container tests (pytest files in images/<stage>/container-test) against the
// exact image its record names. The tests start containers themselves; they get the image ID
// and the line's versions through the environment.
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { CONTAINER_TEST_HELPERS } from '../container-test-host';
import { engineFor } from '../engines';
import type { ContainerTestOptions } from '../options';
import { presentImage } from '../presence';
import { reportFailure } from '../report';

export default async function containerTest(options: ContainerTestOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName!;
  try {
    const engine = engineFor(options.engine);
    const record = await presentImage(context.root, engine, project);
    const env: Record<string, string> = {
      IMAGE: record.image,
      DOCKER_CLIENT: engine.client,
      // Each conftest.py imports the shared helpers as `image_testing`; they live outside the tests' folders.
      PYTHONPATH: helpersPythonPath(context.root, process.env.PYTHONPATH),
    };
    for (const [k, v] of Object.entries(options.variables)) env[`CHAIN_${k.replace(/\W/g, '_').toUpperCase()}`] = v;
    const python = resolvePython(context.root, options.python);
    console.log(`${project}: container tests in ${options.tests} against ${record.image.slice(0, 19)}`);
    const result = await execa(python, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rfE', join(context.root, options.tests)], {
      env,
      stdout: 'inherit',
      stderr: 'inherit',
      reject: false,
      cwd: context.root,
    });
    if (result.exitCode !== 0) {
      console.error(`\n✖ ${project}: container tests failed (pytest exit ${result.exitCode}); see above`);
      return { success: false };
    }
    return { success: true };
  } catch (e) {
    reportFailure(project, e as Error, 'The container tests did not run; nothing is cached.');
    return { success: false };
  }
}

/** The shared helpers' folder, first on a PYTHONPATH the caller may already have. */
export function helpersPythonPath(root: string, current: string | undefined): string {
  const helpers = join(root, CONTAINER_TEST_HELPERS);
  return current ? `${helpers}${delimiter}${current}` : helpers;
}

/** A path option (one with a slash) is workspace-relative and must exist; a bare name is looked up on PATH. */
export function resolvePython(root: string, python: string): string {
  if (!python.includes('/')) return python;
  const path = isAbsolute(python) ? python : join(root, python);
  if (!existsSync(path)) {
    throw new Error(`the container tests' Python ${python} does not exist: run \`bash tools/setup.sh\` (it makes it from tools/container-test/requirements.txt)`);
  }
  return path;
}
