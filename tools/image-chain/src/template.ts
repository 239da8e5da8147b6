// Templates like "{sklearnMinor}-{sagemaker}-cpu-py{python}": the only way stage files and tag
// templates read the versions file, so the fields a stage uses are exactly the names it renders.
import { ConfigError, sklearnMinor, type ChainConfig } from './config';

export type Variables = Record<string, string>;

const REFERENCE = /\{([A-Za-z][A-Za-z0-9_.-]*)\}/g;

export class TemplateError extends ConfigError {}

/** Renders `template`; `where` names the file and field for the error message. */
export function render(template: string, vars: Variables, where: string): string {
  return template.replace(REFERENCE, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      throw new TemplateError(
        `${where}: unknown variable {${name}}; known variables: ${Object.keys(vars).sort().map((v) => `{${v}}`).join(', ')}`,
      );
    }
    return value;
  });
}

/** The variable names a template references. */
export function variablesIn(template: string): string[] {
  return [...template.matchAll(REFERENCE)].map((m) => m[1]);
}

/**
 * pip requirement specifiers for one pin table, sorted so the string is stable. By code unit, not
 * localeCompare: that one follows the machine's ICU data and locale (a cache key must not), and
 * its first call loads ICU's collation, which every nx command would pay for.
 */
export function pinList(pins: Record<string, string> | undefined): string {
  return Object.entries(pins ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, version]) => `${name}==${version}`)
    .join(' ');
}

/** Everything a per-line stage may reference, e.g. {sklearn}, {pins.final}. */
export function lineVariables(config: ChainConfig, lineName: string): Variables {
  const line = config.lines[lineName];
  const vars: Variables = {
    line: lineName,
    sklearn: line.sklearn,
    sklearnMinor: sklearnMinor(line.sklearn),
    sagemaker: line.sagemaker,
    python: line.python,
    extension: line.extension,
    ...osVariables(config, line.os),
  };
  for (const [stage, table] of Object.entries(line.pins)) vars[`pins.${stage}`] = pinList(table);
  return vars;
}

/** What an OS stage, and the lines on its suite, may reference. */
export function osVariables(config: ChainConfig, suite: string): Variables {
  const { variant, mirror, python3 } = config.os[suite];
  return { suite, variant, mirror, python3 };
}
