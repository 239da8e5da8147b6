// Builds a Python project's wheel through PEP 517 (python -m build), reproducibly: the same
// sources give the same bytes, so a rebuilt wheel does not change the images downstream.
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { withProjectLock } from '../lock';
import type { PythonWheelOptions } from '../options';

// 1980-01-01: the earliest time a wheel (a zip file) can hold.
const SOURCE_DATE_EPOCH = '315532800';

export default async function pythonWheel(options: PythonWheelOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  // Two runs at once would empty and fill the same output folder.
  return withProjectLock(context.root, context.projectName!, () => build(options, context));
}

async function build(options: PythonWheelOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectsConfigurations.projects[context.projectName!];
  const cwd = join(context.root, project.root);
  const python = options.python;
  const out = join(cwd, options.outputPath);
  rmSync(out, { recursive: true, force: true });
  // No isolated environment: the build backend comes from requirements-dev.txt (the set-up
  // installs it). No dependency check either, which would slow every wheel build: a missing
  // backend fails the build with its own message, turned into a hint below.
  const result = await execa(python, ['-m', 'build', '--wheel', '--no-isolation', '--skip-dependency-check', '--outdir', out, '.'], {
    cwd,
    env: { SOURCE_DATE_EPOCH },
    stdout: 'inherit',
    stderr: ['pipe', 'inherit'],
    reject: false,
  });
  if (result.exitCode !== 0) {
    const stderr = String(result.stderr ?? '');
    const hint = /No module named build|No module named 'hatchling'|Backend .* is not available/.test(stderr)
      ? `the Python build tools are missing: run "bash tools/setup.sh" (installs ${project.root}/requirements-dev.txt)`
      : 'see the output above';
    console.error(`\n✖ ${context.projectName}: "${python} -m build --wheel" failed in ${project.root}: ${hint}`);
    return { success: false };
  }
  const wheels = readdirSync(out).filter((f) => f.endsWith('.whl'));
  if (wheels.length !== 1) {
    console.error(`✖ ${context.projectName}: expected one wheel in ${out}, found ${wheels.length}`);
    return { success: false };
  }
  console.log(`${context.projectName}: built ${wheels[0]}`);
  return { success: true };
}
