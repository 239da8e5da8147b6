// The README's table of version lines, made from images/versions.json (the Python column is the
// suite's python3 there, which base's build checks) and the extension suite's expectations.
//   tools/node/env.sh node -r @swc-node/register tools/docs/lines-table.ts [--write]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, type ChainConfig } from '../image-chain/src/config';
import { projectName } from '../image-chain/src/tags';
import { writeOrCheck } from './readme-block';

const ROOT = resolve(__dirname, '../..');
export const BLOCK = 'lines-table';
const EXPECTATIONS = 'images/extension/container-test/suite-expectations.json';

type Expectations = Record<string, { xfail?: Record<string, string>; skip?: Record<string, string> } | string>;

/** How many of the extension library's own tests a line lists as expected failures. */
function expectedFailures(expectations: Expectations, line: string): number {
  const section = (name: string) => (typeof expectations[name] === 'object' ? expectations[name] : {});
  return Object.keys({ ...section('all').xfail, ...section(line).xfail }).length;
}

export function linesTable(config: ChainConfig, expectations: Expectations): string {
  const rows = Object.entries(config.lines)
    .sort(([a], [b]) => (a === config.defaultLine ? -1 : b === config.defaultLine ? 1 : b.localeCompare(a, 'en', { numeric: true })))
    .map(([name, line]) => {
      const pin = (pkg: string) => line.pins.base?.[pkg] ?? '?';
      const xfail = expectedFailures(expectations, name);
      return `| \`${name}\`${name === config.defaultLine ? ' (default)' : ''} | Debian ${line.os} | ${config.os[line.os].python3} | ${line.sklearn} | ${pin('numpy')} / ${pin('scipy')} / ${pin('pandas')} | ` +
        `${line.extension}, patched; its own test suite passes but for ${xfail} listed expected failures | \`nx run ${projectName('extension', name, config.defaultLine)}:docker-build\` |`;
    });
  return [
    '| line | OS | Python | scikit-learn | numpy / scipy / pandas | sagemaker-scikit-learn-extension | build |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function currentTable(root = ROOT): string {
  return linesTable(loadConfig(root), JSON.parse(readFileSync(join(root, EXPECTATIONS), 'utf8')) as Expectations);
}

if (require.main === module) {
  writeOrCheck(join(ROOT, 'README.md'), BLOCK, currentTable(), 'npm run generate');
}
