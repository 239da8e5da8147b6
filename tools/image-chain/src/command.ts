// How a target runs one of our executors as a command (nx:run-commands): see run.ts for why.
export const OPTIONS_ENV = 'IMAGE_CHAIN_OPTIONS';

/**
 * What the command's environment takes away. Node reads every certificate NODE_EXTRA_CA_CERTS
 * names before it runs a line, a cost to every task where it names the system bundle (see
 * docs/benchmarks.md); the command makes no TLS connection of its own, and what it runs
 * (docker, python, git) never reads it.
 */
export const COMMAND_ENV = { NODE_EXTRA_CA_CERTS: '' };

/** The target's command line; Nx fills in {projectRoot}. */
export function commandFor(executor: string): string {
  return `node tools/image-chain/run.js ${executor} {projectRoot}`;
}

/** A target's executor and options running `executor` with `options`. */
export function commandTarget(executor: string, options: object): { executor: 'nx:run-commands'; options: { command: string; env: Record<string, string> } } {
  return { executor: 'nx:run-commands', options: { command: commandFor(executor), env: { ...COMMAND_ENV, [OPTIONS_ENV]: JSON.stringify(options) } } };
}
