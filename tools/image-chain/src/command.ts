// How a target runs one of our executors as a command (nx:run-commands): see run.ts for why.
export const OPTIONS_ENV = 'IMAGE_CHAIN_OPTIONS';

/** The target's command line; Nx fills in {projectRoot}. */
export function commandFor(executor: string): string {
  return `node tools/image-chain/run.js ${executor} {projectRoot}`;
}

/** A target's executor and options running `executor` with `options`. */
export function commandTarget(executor: string, options: object): { executor: 'nx:run-commands'; options: { command: string; env: Record<string, string> } } {
  return { executor: 'nx:run-commands', options: { command: commandFor(executor), env: { [OPTIONS_ENV]: JSON.stringify(options) } } };
}
